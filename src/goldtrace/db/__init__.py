"""goldtrace.db"""
