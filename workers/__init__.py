"""ARQ workers and the dispatcher that feeds them (importable as `risiti.workers`)."""
