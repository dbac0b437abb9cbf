"""Who may call walletguard: API keys and the roles they carry."""
