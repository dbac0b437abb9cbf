"""walletguard: real-time risk control for digital wallets."""

__version__ = "0.1.0"
