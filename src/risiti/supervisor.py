"""`risiti dev` as a supervisor: api, projector and worker are started again when they exit, and
the embedded PostgreSQL and Redis when they die (DESIGN.md §9).

One machine running everything must not stop for good because one of its parts did: a killed
projector, or a PostgreSQL that dies under it, should cost seconds of staleness, not the service.
Every part keeps its state in PostgreSQL, so starting it again is always safe. What is not safe is
starting again forever something that cannot run (a port in use, a broken setting): repeated
crashes make the supervisor give up, loudly, naming the process and its last exit code.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

FIRST_DELAY_SECONDS = 0.5
"""Wait before the first start again; it doubles with each crash of the last minute (0.5, 1, 2,
4 s): a cap would never be reached before the supervisor gives up."""
CRASHES_TO_GIVE_UP = 5
"""This many crashes of one process within `CRASH_WINDOW_SECONDS` and the supervisor gives up."""
CRASH_WINDOW_SECONDS = 60.0
TICK_SECONDS = 0.2
SERVER_PROBE_SECONDS = 0.5
STOP_TIMEOUT_SECONDS = 10.0


def restart_delay(crashes: Sequence[float], now: float) -> float | None:
    """Seconds to wait before starting again a process that crashed at the monotonic instants
    `crashes` (the latest just now), or None to give up: it crashed too often in the last minute.
    """
    recent = [moment for moment in crashes if now - moment < CRASH_WINDOW_SECONDS]
    if len(recent) >= CRASHES_TO_GIVE_UP:
        return None
    return FIRST_DELAY_SECONDS * 2.0 ** max(len(recent) - 1, 0)


@dataclass
class Restarts:
    """When one process crashed lately, and when it is due to start again."""

    crashes: list[float] = field(default_factory=list)
    due_at: float | None = None

    def crashed(self, now: float) -> float | None:
        """Record a crash; the delay before the next start, or None to give up."""
        self.crashes = [m for m in self.crashes if now - m < CRASH_WINDOW_SECONDS] + [now]
        delay = restart_delay(self.crashes, now)
        self.due_at = None if delay is None else now + delay
        return delay

    def is_due(self, now: float) -> bool:
        return self.due_at is not None and now >= self.due_at


@dataclass
class Child:
    """A `risiti` process the supervisor runs, and starts again whenever it exits."""

    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: Restarts = field(default_factory=Restarts)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env)
        self.restarts.due_at = None

    def exit_code(self) -> int | None:
        """The exit code of a process that exited and is not started again yet."""
        if self.process is None or self.restarts.due_at is not None:
            return None
        return self.process.poll()


@dataclass
class WatchedServer:
    """An embedded server the supervisor probes, and starts again on the same data when it dies.

    `start_again` raises when the server does not come back; that counts as a crash."""

    name: str
    is_running: Callable[[], bool]
    start_again: Callable[[], None]
    restarts: Restarts = field(default_factory=Restarts)


class GaveUp(Exception):
    """Raised when a process or server crashed `CRASHES_TO_GIVE_UP` times within a minute."""


class Supervisor:
    """Runs children and watches servers until SIGINT/SIGTERM or until it gives up.

    `on_ready` is called once, the first time `ready()` is true (the API answers)."""

    def __init__(
        self,
        children: list[Child],
        servers: list[WatchedServer],
        *,
        ready: Callable[[], bool],
        on_ready: Callable[[], None],
    ) -> None:
        self._children = children
        self._servers = servers
        self._ready = ready
        self._on_ready: Callable[[], None] | None = on_ready
        self._stopping = False
        self._probed_at = 0.0

    def run(self) -> int:
        """Supervise until stopped (0) or until giving up (1, with a one-line message)."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            for child in self._children:
                child.start()
            while not self._stopping:
                self._tick(time.monotonic())
                time.sleep(TICK_SECONDS)
        except GaveUp as error:
            _say(f"{error}; giving up and stopping everything")
            return 1
        finally:
            stop_processes([c.process for c in self._children if c.process is not None])
        return 0

    def _stop(self, *_: object) -> None:
        self._stopping = True

    def _tick(self, now: float) -> None:
        if now - self._probed_at >= SERVER_PROBE_SECONDS:
            self._probed_at = now
            for server in self._servers:
                self._watch_server(server, now)
        servers_up = all(server.restarts.due_at is None for server in self._servers)
        for child in self._children:
            self._watch_child(child, now, servers_up=servers_up)
        if self._on_ready is not None and self._ready():
            self._on_ready()
            self._on_ready = None

    def _watch_child(self, child: Child, now: float, *, servers_up: bool) -> None:
        code = child.exit_code()
        if code is not None:
            delay = child.restarts.crashed(now)
            if delay is None:
                raise GaveUp(
                    f"risiti dev: the {child.name} exited {CRASHES_TO_GIVE_UP} times within "
                    f"{CRASH_WINDOW_SECONDS:.0f} s (last exit code {code})"
                )
            _say(
                f"risiti dev: the {child.name} exited (code {code}); starting it again in "
                f"{delay:g} s"
            )
        # A child started while PostgreSQL or Redis is down would only crash again.
        elif servers_up and not self._stopping and child.restarts.is_due(now):
            child.start()

    def _watch_server(self, server: WatchedServer, now: float) -> None:
        if server.restarts.due_at is None:
            if server.is_running():
                return
            self._server_crashed(server, now, "stopped")
        if not server.restarts.is_due(now):
            return
        try:
            server.start_again()
        # Whatever stops it from starting, it is one more crash of that server.
        except Exception as error:
            self._server_crashed(server, time.monotonic(), f"did not start again ({error})")
            return
        server.restarts.due_at = None
        _say(f"risiti dev: the {server.name} runs again")

    def _server_crashed(self, server: WatchedServer, now: float, what: str) -> None:
        delay = server.restarts.crashed(now)
        if delay is None:
            raise GaveUp(
                f"risiti dev: the {server.name} {what}, {CRASHES_TO_GIVE_UP} times within "
                f"{CRASH_WINDOW_SECONDS:.0f} s"
            )
        _say(f"risiti dev: the {server.name} {what}; starting it again in {delay:g} s")


def answers_http(url: str) -> bool:
    """Whether `url` answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200  # type: ignore[no-any-return]
    except (OSError, urllib.error.URLError):
        return False


def wait_for_any_exit(processes: list[subprocess.Popen[bytes]]) -> None:
    """Return when one of `processes` exits, or on SIGINT/SIGTERM."""
    stop = {"now": False}

    def on_signal(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop["now"] and all(process.poll() is None for process in processes):
        time.sleep(TICK_SECONDS)


def first_failure(processes: list[subprocess.Popen[bytes]]) -> int:
    """The exit code of the first of `processes` that failed on its own (not stopped by a
    signal), or 0."""
    codes = [process.returncode for process in processes]
    return next((code for code in codes if code is not None and code > 0), 0)


def dies_with_its_parent() -> None:
    """Run in a child before it starts (`preexec_fn`): the kernel sends it SIGTERM when the
    process that started it dies, however it died (Linux's PR_SET_PDEATHSIG; elsewhere,
    nothing)."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process still running; SIGKILL those not gone `STOP_TIMEOUT_SECONDS` later."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
