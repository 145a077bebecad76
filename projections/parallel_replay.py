"""Replaying a long log in a process per core, for `risiti replay` from position zero.

Each process reads its own range of aggregate ids from the log, through the primary key and
aggregate by aggregate, and folds it; as soon as the reading has passed an aggregate, its
history is whole, and its rows are copied (COPY) into the replay tables, which have no index
yet, while the next batch is folded. The read models only depend on each aggregate's own
history, and their sums add up in any order, so the shares need nothing from one another.

A process is `python -m risiti.projections.parallel_replay`, given its share as JSON on
standard input; it reports the events it has read on a pipe, line by line. Unlike
multiprocessing's spawn, it does not import the caller's main module again (a benchmark's or
the `risiti` command's), only what a share needs.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO
from uuid import UUID

import asyncpg
from eventsourcing.domain import Aggregate

from risiti.eventstore.parked import before_parked
from risiti.eventstore.recorder import LogPosition, aggregate_share, read_aggregates
from risiti.process import use_fast_event_loop
from risiti.projections.runner import BatchApplier, Changes, Projection, all_projections

BATCH = 5000
PROGRESS_SECONDS = 0.2


@dataclass(frozen=True)
class Share:
    """One process's part of a replay: the k-th of n shares of the aggregates, by id."""

    database_url: str
    names: list[str]
    schema: str
    up_to: LogPosition
    k: int
    n: int
    parked: dict[UUID, int]
    """Aggregates left where the live projection parked them: the first version not applied."""

    def projections(self) -> list[Projection]:
        return [p for p in all_projections() if p.name in self.names]

    async def connect(self) -> asyncpg.Connection:
        """A connection whose statements name the replay schema's tables first."""
        return await asyncpg.connect(
            self.database_url,
            server_settings={"search_path": f"{self.schema}, public", "synchronous_commit": "off"},
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "database_url": self.database_url,
                "names": self.names,
                "schema": self.schema,
                "up_to": list(self.up_to),
                "k": self.k,
                "n": self.n,
                "parked": {str(key): version for key, version in self.parked.items()},
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Share:
        given = json.loads(text)
        return cls(
            given["database_url"],
            given["names"],
            given["schema"],
            LogPosition(*given["up_to"]),
            given["k"],
            given["n"],
            {UUID(key): version for key, version in given["parked"].items()},
        )


def replay_in_processes(
    database_url: str,
    names: list[str],
    schema: str,
    up_to: LogPosition,
    processes: int,
    progress: Callable[[int], None],
    parked: dict[UUID, int] | None = None,
) -> int:
    """Replay the log up to `up_to` into `schema`'s tables; returns how many events it read."""
    shares = [
        Share(database_url, names, schema, up_to, k, processes, parked or {})
        for k in range(processes)
    ]
    workers = [_start(share) for share in shares]
    try:
        read = _follow(workers, progress)
    except BaseException:
        for worker, _ in workers:
            worker.kill()
        raise
    finally:
        for worker, _ in workers:
            worker.wait()
    failed = [worker.returncode for worker, _ in workers if worker.returncode != 0]
    if failed:
        raise RuntimeError(f"a replay process failed (exit codes {failed})")
    asyncio.run(_finish(shares[0]))
    progress(read)
    return read


def _start(share: Share) -> tuple[subprocess.Popen[bytes], int]:
    """A process replaying `share`, and the read end of the pipe it reports progress on."""
    readable, writable = os.pipe()
    worker = subprocess.Popen(
        [sys.executable, "-m", __spec__.name, str(writable)],
        stdin=subprocess.PIPE,
        pass_fds=[writable],
    )
    os.close(writable)
    assert worker.stdin is not None
    worker.stdin.write(share.to_json().encode())
    worker.stdin.close()
    return worker, readable


def _follow(
    workers: list[tuple[subprocess.Popen[bytes], int]], progress: Callable[[int], None]
) -> int:
    """Add up what the processes report until every pipe is closed (each process has ended).
    A process writes a line at a time, less than the pipe's atomic write: what a read finds
    ends with a whole line."""
    counts = {pipe: 0 for _, pipe in workers}
    with selectors.DefaultSelector() as selector:
        for pipe in counts:
            selector.register(pipe, selectors.EVENT_READ)
        shown = 0.0
        while selector.get_map():
            for key, _ in selector.select(PROGRESS_SECONDS):
                reported = os.read(key.fd, 4096)
                if reported:
                    counts[key.fd] = int(reported.split()[-1])
                else:
                    selector.unregister(key.fd)
                    os.close(key.fd)
            if time.monotonic() - shown >= PROGRESS_SECONDS:
                progress(sum(counts.values()))
                shown = time.monotonic()
    return sum(counts.values())


async def _finish(share: Share) -> None:
    conn = await share.connect()
    try:
        for projection in share.projections():
            await projection.finish_rebuild(conn)
    finally:
        await conn.close()


def _replay_share(share: Share, report: IO[str]) -> None:
    # Only the aggregates of the batch at hand stay in memory, and they hold no cycles: the
    # cyclic garbage collector would walk them again and again for nothing to collect.
    gc.disable()
    use_fast_event_loop()
    asyncio.run(_replay(share, report))


async def _replay(share: Share, report: IO[str]) -> None:
    # The folder keeps the last batch's aggregates: the one still being read is among them.
    applier = BatchApplier(share.projections(), capacity=BATCH)
    reader, writer = await share.connect(), await share.connect()
    try:
        await _fold_and_copy(reader, writer, applier, share, report)
    finally:
        await reader.close()
        await writer.close()


async def _fold_and_copy(
    reader: asyncpg.Connection,
    writer: asyncpg.Connection,
    applier: BatchApplier,
    share: Share,
    report: IO[str],
) -> None:
    """Fold the share batch by batch, the next one being read meanwhile, and copy in each
    aggregate's rows once its history is whole, while the next batch is folded."""
    read, ongoing = 0, dict[UUID, Aggregate]()
    writing: asyncio.Task[None] | None = None
    try:
        ids = aggregate_share(share.k, share.n)
        async for batch in read_aggregates(reader, ids, share.up_to, BATCH):
            kept = before_parked(batch, share.parked)
            folded = ongoing | {a.id: a for a in applier.fold(kept)}
            # The batch's last aggregate may go on in the next one; the others are whole.
            last = folded.pop(batch[-1].originator_id, None)
            ongoing = {} if last is None else {last.id: last}
            changes = applier.changes_for(list(folded.values()))
            if writing is not None:
                await writing
            writing = asyncio.create_task(_copy(writer, changes))
            read += len(batch)
            print(read, file=report, flush=True)
        if writing is not None:
            await writing
        await _copy(writer, applier.changes_for(list(ongoing.values())))
    finally:
        if writing is not None and not writing.done():
            writing.cancel()
            await asyncio.gather(writing, return_exceptions=True)


async def _copy(conn: asyncpg.Connection, changes: Changes) -> None:
    for projection, change in changes:
        await projection.write_once(conn, change)


if __name__ == "__main__":
    with os.fdopen(int(sys.argv[1]), "w") as reporting:
        _replay_share(Share.from_json(sys.stdin.read()), reporting)
