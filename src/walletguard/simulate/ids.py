"""Identifiers that look random but are a bijection of a counter, so they never collide.

`mix(n)` is an invertible 48-bit permutation keyed by the seed: distinct counters
give distinct ids without remembering any of them, and nothing in an id tells
an attacker's account from a customer's.
"""

from __future__ import annotations

_MASK = (1 << 48) - 1
# Odd multipliers (invertible modulo 2**48) between xor-shifts (invertible too):
# every step is a bijection, and high bits reach the low ones.
_MULT_1 = 0xBF58476D1CE5 | 1
_MULT_2 = 0x94D049BB1331 | 1


class IdMint:
    """Hands out account, device, token, reference and event ids for one run."""

    __slots__ = ("_counters", "_key", "_seed")

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._key = (seed * 0x9E3779B97F4A7C15) & _MASK
        self._counters: dict[str, int] = {}

    def _next(self, kind: str) -> int:
        n = self._counters.get(kind, 0)
        self._counters[kind] = n + 1
        return n

    def mix(self, n: int) -> int:
        x = (n ^ self._key) & _MASK
        x ^= x >> 23
        x = (x * _MULT_1) & _MASK
        x ^= x >> 25
        x = (x * _MULT_2) & _MASK
        x ^= x >> 23
        return x

    def account(self) -> str:
        return f"w{self.mix(self._next('account')):012x}"

    def device(self) -> str:
        return f"d{self.mix(self._next('device') + (1 << 40)):012x}"

    def token(self) -> str:
        """A tokenised bank account number."""
        return f"tok_{self.mix(self._next('token') + (2 << 40)):012x}"

    def merchant(self) -> str:
        return f"m{self.mix(self._next('merchant') + (3 << 40)):012x}"

    def channel_ref(self, prefix: str) -> str:
        n = self.mix(self._next("ref") + (4 << 40))
        return f"{prefix}{n:015d}"

    def value_hash(self) -> str:
        """An opaque hash standing for a new phone number, e-mail or SIM."""
        return f"h{self.mix(self._next('hash') + (5 << 40)):012x}"

    def session(self) -> str:
        return f"s{self.mix(self._next('session') + (6 << 40)):012x}"

    def event(self) -> str:
        return f"ev{self._seed:x}-{self._next('event'):010d}"

    def campaign(self) -> str:
        return f"c{self._seed:x}-{self._next('campaign'):06d}"
