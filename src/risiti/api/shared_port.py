"""Several api processes serving one port, the connections spread evenly between them.

`risiti api --processes N` binds one listening socket and starts N children that inherit it.
Each child accepts from it only while it holds no more open connections than the least loaded of
its siblings, so that keep-alive clients opened at once are shared out evenly, whatever the
processes happen to be doing when they arrive. Left to the kernel (one SO_REUSEPORT socket per
child, or all children waiting on one socket), 16 connections opened together under load split
16/0, 13/3 or 7/9 (docs/scaling.md, "Api processes share the connections"), and the busier
process set the slowest requests' latency.

The counts live in a small file every child maps (`ConnectionCounts`): one slot per child, its
open connections and when it last wrote them. A child whose slot has not been written for
`SILENT_SECONDS` (its event loop stuck, say) is left out of the comparison, so that the others
never wait on it; one that has not started yet is waited for only during `STARTUP_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mmap
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from aiohttp.web_runner import GracefulExit

SLOT = struct.Struct("<qd")
"""A child's slot: its open connections, and the monotonic time it wrote them (0: not yet)."""
HEADER = struct.Struct("<d")
"""When the table was made (monotonic: the same clock in every process of the machine)."""
SILENT_SECONDS = 1.0
STARTUP_SECONDS = 10.0
PUBLISH_SECONDS = 0.05
"""How often a child writes its count even when it accepts nothing (connections close)."""
WAIT_SECONDS = 0.005
"""How often a child that has more connections than a sibling looks again."""
ACCEPT_FAILED_PAUSE_SECONDS = 0.1

log = logging.getLogger(__name__)
Clock = Callable[[], float]


class ConnectionCounts:
    """The open connections of each process serving the port, in a file they all map."""

    def __init__(self, path: Path, slot: int, clock: Clock = time.monotonic) -> None:
        self._slot = slot
        self._clock = clock
        with path.open("r+b") as file:
            self._table = mmap.mmap(file.fileno(), 0)
        # The table's size says how many processes share the port.
        self._processes = (len(self._table) - HEADER.size) // SLOT.size

    @staticmethod
    def create(path: Path, processes: int, clock: Clock = time.monotonic) -> None:
        """The table for `processes` children, none started yet."""
        table = bytearray(_table_size(processes))
        HEADER.pack_into(table, 0, clock())
        path.write_bytes(bytes(table))

    def publish(self, connections: int) -> None:
        SLOT.pack_into(self._table, _offset(self._slot), connections, self._clock())

    def may_accept(self) -> bool:
        """Whether this process holds no more connections than every sibling it may wait on."""
        mine, _ = SLOT.unpack_from(self._table, _offset(self._slot))
        now = self._clock()
        starting = now - HEADER.unpack_from(self._table, 0)[0] < STARTUP_SECONDS
        for slot in range(self._processes):
            if slot == self._slot:
                continue
            theirs, written = SLOT.unpack_from(self._table, _offset(slot))
            waited_for = now - written < SILENT_SECONDS if written else starting
            if waited_for and theirs < mine:
                return False
        return True

    def close(self) -> None:
        self._table.close()


class TurnTakingSite(web.BaseSite):
    """An aiohttp site on an inherited listening socket that accepts only in its turn."""

    def __init__(self, runner: web.BaseRunner, sock: socket.socket, counts: ConnectionCounts):
        super().__init__(runner)
        self._sock = sock
        self._counts = counts
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def name(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None  # BaseSite refuses a runner not set up
        self._sock.setblocking(False)
        self._tasks = [
            asyncio.create_task(self._accept_in_turn(server)),
            asyncio.create_task(self._publish_count(server)),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().stop()

    async def _accept_in_turn(self, server: web.Server) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # The siblings' counts change in other processes: no asyncio.Event can say when.
            while not self._counts.may_accept():  # noqa: ASYNC110
                await asyncio.sleep(WAIT_SECONDS)
            try:
                connection, _ = await loop.sock_accept(self._sock)
            except OSError as failure:  # out of file descriptors, say: the next may succeed
                log.warning("accepting a connection failed: %s", failure)
                await asyncio.sleep(ACCEPT_FAILED_PAUSE_SECONDS)
                continue
            await loop.connect_accepted_socket(server, connection)
            self._counts.publish(len(server.connections))

    async def _publish_count(self, server: web.Server) -> None:
        while True:
            self._counts.publish(len(server.connections))
            await asyncio.sleep(PUBLISH_SECONDS)


def serve_in_turn(app: web.Application, listening_fd: int, counts: ConnectionCounts) -> None:
    """Serve `app` on the inherited socket until SIGTERM or SIGINT, as `web.run_app` would."""
    sock = socket.socket(fileno=listening_fd)
    with contextlib.suppress(GracefulExit, KeyboardInterrupt):
        asyncio.run(_serve(app, sock, counts))


async def _serve(app: web.Application, sock: socket.socket, counts: ConnectionCounts) -> None:
    runner = web.AppRunner(app, handle_signals=True)
    await runner.setup()
    try:
        await TurnTakingSite(runner, sock, counts).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        counts.close()


def _table_size(processes: int) -> int:
    return HEADER.size + processes * SLOT.size


def _offset(slot: int) -> int:
    return HEADER.size + slot * SLOT.size
