"""The service layer: one async handler per command; load an aggregate, call it, append events."""
