"""goldtrace.ledger"""
