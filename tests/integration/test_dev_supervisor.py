"""`risiti dev` is a supervisor (issue 12, DESIGN.md §9): SIGKILL of the api, the projector, the
worker, the embedded PostgreSQL or the embedded Redis leaves the service answering again within
30 s, with every acknowledged write readable and listed; and a process that cannot run makes it
give up loudly instead of trying forever.

Each test runs a real `risiti dev` in a folder of its own, with its own embedded servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from .conftest import KREDO_INVOICE, Receiver, wait_until

pytestmark = pytest.mark.asyncio

RECOVERY_SECONDS = 30


@dataclass
class RunningDev:
    """A `risiti dev` started by a test, with what it printed."""

    process: subprocess.Popen[str]
    home: Path
    log: Path
    url: str
    key: str
    http: aiohttp.ClientSession

    def child(self, role: str) -> int:
        """The pid of its `risiti <role>` child (the api's with its `--processes`)."""
        [pid] = [
            pid
            for pid in _children(self.process.pid)
            if _command_line(pid)[1:4] == ["-m", "risiti.cli", role]
        ]
        return pid

    def postmaster(self) -> int:
        return int((self.home / "postgres" / "postmaster.pid").read_text().split()[0])

    def redis_server(self) -> int:
        registry = json.loads((self.home / "redis.db.settings").read_text())
        return int(Path(registry["pidfile"]).read_text())

    def said(self) -> str:
        """What it wrote to stderr so far."""
        return self.log.read_text(errors="replace")

    async def create_invoice(self, **fields: Any) -> str | None:
        """The new invoice's id, or None when the service did not acknowledge it."""
        headers = {"Authorization": f"Bearer {self.key}"}
        try:
            async with self.http.post(
                "/v1/invoices", json=KREDO_INVOICE | fields, headers=headers
            ) as response:
                return (
                    str((await response.json())["data"]["id"]) if response.status == 201 else None
                )
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def get(self, path: str) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.key}"}
        async with self.http.get(path, headers=headers) as response:
            return response.status, await response.json()


@pytest.fixture
async def dev() -> AsyncIterator[RunningDev]:
    """`risiti dev` with embedded servers, in a fresh folder; stopped with SIGTERM at the end."""
    with tempfile.TemporaryDirectory(prefix="risiti-dev-") as folder:
        log = Path(folder) / "dev.log"
        process = _start_dev(Path(folder), _free_port(), log)
        try:
            lines = await _printed_lines(process, 4)
            async with aiohttp.ClientSession(
                base_url=lines["RISITI_URL"], timeout=aiohttp.ClientTimeout(total=5)
            ) as http:
                yield RunningDev(
                    process,
                    Path(folder) / ".risiti",
                    log,
                    lines["RISITI_URL"],
                    lines["RISITI_TEST_KEY"],
                    http,
                )
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 30)
        assert process.returncode == 0, log.read_text()


def _start_dev(folder: Path, port: int, log: Path) -> subprocess.Popen[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("RISITI_DATABASE_URL", "RISITI_REDIS_URL")
    }
    # Deliveries are tried again within a second; a lost Redis wake-up is swept up within 5 s.
    env |= {"RISITI_POLL_INTERVAL": "0.1", "RISITI_WEBHOOK_RETRY_SCALE": "0.01"}
    # Several runs on one machine would fight over the fixed metrics ports.
    env |= {"RISITI_PROJECTOR_METRICS_PORT": "0", "RISITI_WORKER_METRICS_PORT": "0"}
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "risiti.cli", "dev", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


async def _printed_lines(process: subprocess.Popen[str], count: int) -> dict[str, str]:
    assert process.stdout is not None
    lines = [
        await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 60) for _ in range(count)
    ]
    return dict(line.strip().split("=", 1) for line in lines if "=" in line)


async def _survives(dev: RunningDev, kill: Callable[[], None]) -> list[str]:
    """Kill something, then show that the service answers again and lost no acknowledged
    write; the ids of every invoice acknowledged, before and after."""
    before = [await _acknowledged(dev, "before") for _ in range(3)]
    kill()
    started = asyncio.get_running_loop().time()
    after = [await _acknowledged(dev, "after", within=RECOVERY_SECONDS)]
    assert asyncio.get_running_loop().time() - started < RECOVERY_SECONDS
    after += [await _acknowledged(dev, "after") for _ in range(2)]
    acknowledged = before + after

    for invoice_id in acknowledged:
        assert (await dev.get(f"/v1/invoices/{invoice_id}"))[0] == 200

    async def listed() -> list[str] | None:
        status, body = await dev.get("/v1/invoices?limit=100")
        ids = [invoice["id"] for invoice in body["data"]] if status == 200 else []
        return ids if set(acknowledged) <= set(ids) else None

    ids = await wait_until(listed, timeout=RECOVERY_SECONDS, interval=0.2)
    assert all(ids.count(invoice_id) == 1 for invoice_id in acknowledged)
    return acknowledged


async def _acknowledged(dev: RunningDev, customer: str, within: float = 10) -> str:
    """Create an invoice, asking again until the service acknowledges one."""

    async def created() -> str | None:
        return await dev.create_invoice(customer_name=customer)

    invoice_id: str = await wait_until(created, timeout=within, interval=0.2)
    return invoice_id


async def _hooked(dev: RunningDev, receiver: Receiver) -> None:
    headers = {"Authorization": f"Bearer {dev.key}"}
    body = {"url": receiver.url, "events": ["invoice.created"]}
    async with dev.http.post("/v1/webhook-endpoints", json=body, headers=headers) as response:
        assert response.status == 201, await response.text()


async def _delivered(receiver: Receiver, invoice_ids: list[str]) -> None:
    async def all_arrived() -> bool:
        arrived = {json.loads(body)["data"]["id"] for _, body in receiver.received}
        return set(invoice_ids) <= arrived

    await wait_until(all_arrived, timeout=RECOVERY_SECONDS, interval=0.2)


async def test_dev_answers_healthz_the_moment_it_prints_its_url(dev: RunningDev) -> None:
    # The fixture yields as soon as the four lines are read: one request, no retry.
    async with dev.http.get("/healthz") as response:
        assert response.status == 200


async def test_a_killed_api_is_started_again_and_loses_no_write(dev: RunningDev) -> None:
    killed = dev.child("api")
    # With `--processes N` the killed api serves through children, which it takes with it
    # (they get SIGTERM and finish what they serve): only once they are gone is it "after".
    serving = _children(killed)

    def kill_the_api() -> None:
        os.kill(killed, signal.SIGKILL)
        _wait_gone([killed, *serving])

    await _survives(dev, kill_the_api)

    assert dev.child("api") != killed
    assert "the api exited (code -9); starting it again" in dev.said()


async def test_a_killed_projector_is_started_again_and_lists_catch_up(dev: RunningDev) -> None:
    killed = dev.child("projector")

    await _survives(dev, lambda: os.kill(killed, signal.SIGKILL))

    assert dev.child("projector") != killed
    assert "the projector exited (code -9); starting it again" in dev.said()


async def test_a_killed_worker_is_started_again_and_webhooks_still_arrive(
    dev: RunningDev, receiver: Receiver
) -> None:
    await _hooked(dev, receiver)
    killed = dev.child("worker")

    acknowledged = await _survives(dev, lambda: os.kill(killed, signal.SIGKILL))

    await _delivered(receiver, acknowledged)
    assert dev.child("worker") != killed
    assert "the worker exited (code -9); starting it again" in dev.said()


async def test_a_killed_embedded_postgresql_is_started_again_and_loses_no_write(
    dev: RunningDev, receiver: Receiver
) -> None:
    await _hooked(dev, receiver)
    killed = dev.postmaster()

    acknowledged = await _survives(dev, lambda: os.kill(killed, signal.SIGKILL))

    await _delivered(receiver, acknowledged)  # the dispatcher and the worker reconnected too
    assert dev.postmaster() != killed
    assert "the embedded PostgreSQL runs again" in dev.said()


async def test_a_killed_embedded_redis_is_started_again_and_webhooks_still_arrive(
    dev: RunningDev, receiver: Receiver
) -> None:
    await _hooked(dev, receiver)
    killed = dev.redis_server()

    acknowledged = await _survives(dev, lambda: os.kill(killed, signal.SIGKILL))

    await _delivered(receiver, acknowledged)
    assert dev.redis_server() != killed
    assert "the embedded Redis runs again" in dev.said()


async def test_an_api_that_cannot_start_makes_dev_give_up_naming_it() -> None:
    with tempfile.TemporaryDirectory(prefix="risiti-dev-") as folder, _taken_port() as port:
        log = Path(folder) / "dev.log"
        process = _start_dev(Path(folder), port, log)
        try:
            output, _ = await asyncio.to_thread(process.communicate, timeout=90)
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        said = log.read_text().splitlines()
        left_running = _processes_mentioning(folder)

    assert process.returncode == 1
    assert left_running == []  # children and embedded servers stopped
    assert said[-1] == (
        "risiti dev: the api exited 5 times within 60 s (last exit code 1); "
        "giving up and stopping everything"
    )
    assert "RISITI_URL=" not in output  # the API never answered


@contextlib.contextmanager
def _taken_port() -> Iterator[int]:
    """A port something else listens on (and never answers), so the api cannot bind it."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_gone(pids: list[int], seconds: float = 10.0) -> None:
    """Return once none of `pids` runs any more (gone, or a zombie left to be reaped)."""
    deadline = time.monotonic() + seconds
    while any(_running(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running after {seconds:g} s: {pids}"
        time.sleep(0.05)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


def _processes_mentioning(text: str) -> list[list[str]]:
    """The command lines of running processes that contain `text` (Linux)."""
    lines = [_command_line(int(entry)) for entry in os.listdir("/proc") if entry.isdigit()]
    return [line for line in lines if any(text in part for part in line)]


def _command_line(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_text().split("\0")[:-1]
    return []
