"""Risiti's commands run as an operator runs them, in a process of their own, against the test
session's servers: their environment, any command, and `risiti replay --check`."""

from __future__ import annotations

import asyncio
import os
import sys

from risiti.config import Settings


def operator_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `risiti` process on the session's servers, polling fast; `extra`
    adds settings of its own (`RISITI_PROJECTOR_PARTITIONS="4"`)."""
    return {
        **os.environ,
        "RISITI_DATABASE_URL": settings.database_url or "",
        "RISITI_REDIS_URL": settings.redis_url or "",
        "RISITI_QUEUE_NAME": settings.queue_name,
        "RISITI_POLL_INTERVAL": "0.1",
        **extra,
    }


async def run_risiti(env: dict[str, str], *args: str, timeout: float) -> tuple[int, str]:  # noqa: ASYNC109
    """`risiti *args` in a process of its own: (exit code, stdout and stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "risiti.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=timeout)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def replay_check(env: dict[str, str], timeout: float) -> tuple[int, str]:  # noqa: ASYNC109
    """`risiti replay --check`: (exit code, stdout and stderr)."""
    return await run_risiti(env, "replay", "--check", timeout=timeout)
