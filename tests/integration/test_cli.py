"""The `risiti` command: every command explains itself, and accounts can be opened."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys

import psutil
import pytest

from risiti.config import Settings

from .operator_runs import operator_env
from .ports import free_port

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
    import aiohttp

    port = free_port()
    api = await _start_api(settings, port, processes=2)
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
        await _stop(api)
    assert _alive(children) == []


async def test_api_processes_share_connections_opened_together_evenly(
    settings: Settings,
) -> None:
    port = free_port()
    api = await _start_api(settings, port, processes=2)
    connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        # Opened at once, as soon as the port listens: before the children have both started.
        connections = await asyncio.gather(*(_keep_alive(port) for _ in range(16)))
        held = _connections_held(api.pid, port)
    finally:
        for _reader, writer in connections:
            writer.close()
        await _stop(api)

    assert sum(held) == 16
    assert max(held) - min(held) <= 1, held


async def test_api_processes_do_not_wait_on_one_that_stopped_answering(
    settings: Settings,
) -> None:
    port = free_port()
    api = await _start_api(settings, port, processes=2)
    stopped = None
    try:
        await _keep_alive(port)
        stopped = _children(api.pid)[0]
        os.kill(stopped, signal.SIGSTOP)
        answered = await asyncio.wait_for(
            asyncio.gather(*(_keep_alive(port) for _ in range(4))), timeout=10
        )
    finally:
        if stopped is not None:
            os.kill(stopped, signal.SIGCONT)
        await _stop(api)

    assert len(answered) == 4


async def _start_api(settings: Settings, port: int, processes: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "risiti.cli", "api", "--processes", str(processes)]
    command += ["--port", str(port)]
    api = await asyncio.to_thread(subprocess.Popen, command, env=operator_env(settings))
    for _ in range(300):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
            return api
        await asyncio.sleep(0.05)
    api.kill()
    raise AssertionError("risiti api never listened")


async def _stop(api: subprocess.Popen[bytes]) -> None:
    api.terminate()
    await asyncio.to_thread(api.wait, 15)


async def _keep_alive(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that has had one answer from /healthz and stays open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: risiti\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=60)
    assert head.startswith(b"HTTP/1.1 200"), head
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return reader, writer


def _connections_held(parent: int, port: int) -> list[int]:
    """How many established connections on `port` each child of `parent` holds."""
    return [
        sum(
            1
            for connection in psutil.Process(child).net_connections(kind="tcp")
            if connection.laddr.port == port and connection.status == psutil.CONN_ESTABLISHED
        )
        for child in _children(parent)
    ]


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
