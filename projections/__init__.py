"""Read models built only from the log (importable as `risiti.projections`)."""
