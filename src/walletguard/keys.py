"""The installation's secret keys: HMAC secrets and Ed25519 signing keys.

Keys come from configuration — a directory named by `$WALLETGUARD_KEYS_DIR`, else
`keys/` in the data directory. The embedded default creates a missing key on first
use (file mode 0600) and records its path in `created`, so the door that triggered it
can say where the key is kept.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from walletguard.kernel.errors import ConfigurationError


def keys_dir(data_dir: Path) -> Path:
    configured = os.environ.get("WALLETGUARD_KEYS_DIR")
    return Path(configured) if configured else data_dir / "keys"


class KeyStore:
    """Loads keys by name from a directory, creating the ones that do not exist yet."""

    def __init__(self, directory: Path, *, create: bool = True) -> None:
        self.directory = directory
        self.create = create
        self.created: list[Path] = []

    def _write_new(self, path: Path, data: bytes) -> None:
        if not self.create:
            raise ConfigurationError(f"key {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        self.created.append(path)

    def _path(self, name: str, suffix: str) -> Path:
        if not name or name.startswith(".") or Path(name).name != name:
            raise ConfigurationError(f"key name {name!r}: a file name in {self.directory}")
        return self.directory / f"{name}{suffix}"

    def secret(self, name: str, size: int = 32) -> bytes:
        """A random secret (for HMAC) of `size` bytes, stored hex-encoded in `<name>.key`; a
        stored one shorter than `size` (an empty file, say) is refused, not used."""
        path = self._path(name, ".key")
        if not path.exists():
            self._write_new(path, secrets.token_hex(size).encode())
        try:
            secret = bytes.fromhex(path.read_text().strip())
        except ValueError:
            raise ConfigurationError(f"{path} is not a hex-encoded secret") from None
        if len(secret) < size:
            raise ConfigurationError(
                f"{path} holds a {len(secret)}-byte secret: at least {size} bytes are needed"
                f" ({2 * size} hex digits)"
            )
        return secret

    def signing_key(self, name: str) -> Ed25519PrivateKey:
        """An Ed25519 private key, stored as PEM (PKCS#8) in `<name>.pem`."""
        path = self._path(name, ".pem")
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            self._write_new(path, pem)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ConfigurationError(f"{path} is not an Ed25519 private key")
        return loaded
