"""The `risiti` command: every command explains itself, and accounts can be opened."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from risiti.config import Settings

COMMANDS = [
    [],
    ["dev"],
    ["api"],
    ["projector"],
    ["worker"],
    ["migrate"],
    ["accounts"],
    ["accounts", "create"],
]


def _risiti(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "risiti.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "risiti")
def test_every_command_has_help_that_explains_it(command: list[str]) -> None:
    result = _risiti(*command, "--help")

    assert result.returncode == 0, result.stderr
    assert "usage: risiti" in result.stdout
    assert len(result.stdout.splitlines()) > 3


async def test_accounts_create_prints_the_keys_once(settings: Settings) -> None:
    env = {
        **os.environ,
        "RISITI_DATABASE_URL": settings.database_url or "",
        "RISITI_REDIS_URL": settings.redis_url or "",
    }

    result = _risiti("accounts", "create", "Mama Put Foods", env=env)

    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert lines["test_key"].startswith("sk_test_")
    assert lines["live_key"].startswith("sk_live_")
