"""The `risiti` command: dev, api, projector, replay, parked, worker, migrate, accounts; and
for auditors verify, checkpoint, export, history.

This module assembles the parser and turns failures into exit codes; the commands live by
concern in `serve` (dev, api, projector, worker), `admin` (migrate, accounts, replay, parked)
and `audit` (verify, checkpoint, export, history), and each process is built by its
composition root in `risiti.bootstrap`.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version
from typing import TYPE_CHECKING

from risiti.cli import admin, audit, serve
from risiti.cli.progress import ProgressLine
from risiti.cli.servers import CannotRun
from risiti.config import Settings
from risiti.process import use_fast_event_loop

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["CannotRun", "ProgressLine", "main"]

DESCRIPTION = "Risiti: an event-sourced invoicing ledger with async workers."


def main(argv: list[str] | None = None) -> None:
    use_fast_event_loop()
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        raise SystemExit(2)
    try:
        code = args.run(args) or 0
    except Exception as failure:
        # An operational failure (a server down, a bad setting, a port taken) is one line for
        # the operator; anything else is a bug in Risiti and keeps its traceback.
        line = _operational_failure(failure)
        if line is None:
            raise
        print(f"risiti: {line}", file=sys.stderr)
        code = 1
    raise SystemExit(code)


def _operational_failure(failure: BaseException) -> str | None:
    """The one line that explains `failure` to an operator, or None for a bug."""
    from pydantic import ValidationError
    from redis.exceptions import ConnectionError as RedisConnectionError

    from risiti.embedded import EmbeddedServersNotInstalled

    if isinstance(failure, CannotRun | EmbeddedServersNotInstalled):
        return str(failure)
    if isinstance(failure, ValidationError) and failure.title == Settings.__name__:
        return _invalid_setting(failure)
    if isinstance(failure, RedisConnectionError):
        return f"cannot reach Redis: {failure}"
    if isinstance(failure, OSError):  # refused and reset connections, timeouts among them
        return str(failure) or type(failure).__name__
    if isinstance(failure, BaseExceptionGroup) and len(failure.exceptions) == 1:
        return _operational_failure(failure.exceptions[0])  # from a process's TaskGroup
    return None


def _invalid_setting(error: ValidationError) -> str:
    """`RISITI_PORT must be a valid integer, … (it is 'eighty')` from pydantic's first error."""
    first = error.errors()[0]
    name = "RISITI_" + "_".join(str(part) for part in first["loc"]).upper()
    reason = first["msg"]
    reason = reason.replace("Input should be", "must be", 1) if "should be" in reason else reason
    return f"{name} {reason} (it is {first['input']!r})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="risiti", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"risiti {version('risiti')}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    # In the order `risiti --help` lists them.
    serve.add_dev(commands)
    serve.add_api(commands)
    serve.add_projector(commands)
    admin.add_replay(commands)
    serve.add_worker(commands)
    admin.add_migrate(commands)
    admin.add_accounts(commands)
    audit.add_audit_commands(commands)
    admin.add_parked(commands)
    return parser
