"""The canonical wallet event: decoding, validation and normalisation (contract v1)."""

from walletguard.events.decode import EventDecoder, decode_event
from walletguard.events.model import EventType, WalletEvent

__all__ = ["EventDecoder", "EventType", "WalletEvent", "decode_event"]
