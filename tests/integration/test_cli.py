"""The `risiti` command: every command explains itself, and accounts can be opened."""

from __future__ import annotations

import contextlib
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


async def test_api_served_from_two_processes_answers_on_one_port_and_stops_whole(
    settings: Settings,
) -> None:
    import asyncio
    import socket

    import aiohttp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        "RISITI_DATABASE_URL": settings.database_url or "",
        "RISITI_REDIS_URL": settings.redis_url or "",
    }
    command = [sys.executable, "-m", "risiti.cli", "api", "--processes", "2", "--port", str(port)]
    api = await asyncio.to_thread(subprocess.Popen, command, env=env)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            children = _children(api.pid)
            answers = [await http.get(f"http://127.0.0.1:{port}/healthz") for _ in range(20)]
        assert len(children) == 2
        assert {answer.status for answer in answers} == {200}
    finally:
        api.terminate()
        await asyncio.to_thread(api.wait, 15)
    assert _alive(children) == []


def _alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if os.path.exists(f"/proc/{pid}")]


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found
