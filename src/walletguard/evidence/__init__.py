"""Evidence packages: an account's or a case's timeline with the audit records that cover
it, hashed and signed, verifiable offline."""
