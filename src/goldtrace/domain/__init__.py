"""goldtrace.domain"""
