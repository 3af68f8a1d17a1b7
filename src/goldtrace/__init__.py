"""goldtrace: a verifiable chain-of-custody ledger for Fairmined gold."""

__version__ = "0.1.0"
