"""goldtrace.services"""
