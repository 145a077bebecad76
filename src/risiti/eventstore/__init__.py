"""The event store: asyncpg recorder, migrations, hash chain and log subscription (DESIGN.md §3)."""
