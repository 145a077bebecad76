"""The recorder contract (tests/integration/recorder_contract.py, one definition for every
recorder) run against the in-memory recorder, without a database."""

from __future__ import annotations

import pytest

from integration.recorder_contract import RecorderContract
from risiti.eventstore.memory import MemoryRecorder

pytestmark = pytest.mark.asyncio


class TestMemoryRecorder(RecorderContract):
    @pytest.fixture
    def recorder(self) -> MemoryRecorder:
        return MemoryRecorder()
