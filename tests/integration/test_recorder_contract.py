"""The recorder contract (recorder_contract.py) run against the PostgreSQL recorder."""

from __future__ import annotations

import asyncpg
import pytest

from risiti.eventstore.recorder import PostgresRecorder

from .recorder_contract import RecorderContract

pytestmark = pytest.mark.asyncio


class TestPostgresRecorder(RecorderContract):
    @pytest.fixture
    def recorder(self, pool: asyncpg.Pool) -> PostgresRecorder:
        return PostgresRecorder(pool)
