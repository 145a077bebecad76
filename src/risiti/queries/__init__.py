"""Reads that are not commands (cosmicpython's views): one resource, a page of a list, an
invoice's history, the hosted page's copy. They use the service layer's unit of work (`Ledger`)
and owner checks, and change nothing (docs/architecture.md)."""
