"""The channels invoices go out through: email and text message, each a small interface with
the providers configured in `Settings` (docs/operations.md, "Sending email and text messages").

Without an SMTP server or an SMS gateway configured (`risiti dev`, the tests), the log
providers write each message to the worker's log instead, so a developer sees what a customer
would have received and every send still completes, fires `invoice.sent` and shows in
`send_log`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from risiti.config import Settings

log = logging.getLogger(__name__)


class SendError(Exception):
    """Raised by a provider that did not take a message; `permanent` when trying again cannot
    help (an address refused), so that only passing trouble is retried."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class EmailSender(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand the message to the provider; SendError if it did not take it."""


class TextMessageSender(Protocol):
    async def send(self, to: str, body: str) -> None:
        """Hand a text message for a phone number to the provider; SendError if refused."""

    async def close(self) -> None:
        """Release the provider's connections."""


class LogEmailSender:
    """Writes each email to the log: the development provider, used while no SMTP server is
    configured."""

    async def send(self, message: EmailMessage) -> None:
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        log.info(
            "email to %s (not sent: no SMTP server configured)\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            text,
        )


class LogTextMessageSender:
    """Writes each text message to the log: the development provider, and the default."""

    async def send(self, to: str, body: str) -> None:
        log.info("text message to %s (not sent: the SMS provider is log): %s", to, body)

    async def close(self) -> None:
        """Holds no connections."""


@dataclass
class Channels:
    """The providers of one worker process."""

    email: EmailSender
    text: TextMessageSender

    async def close(self) -> None:
        await self.text.close()


def open_channels(settings: Settings) -> Channels:
    """The providers the settings choose (see the module's docstring for the defaults)."""
    from risiti.workers.sms_gateway import HttpTextMessageSender
    from risiti.workers.smtp import SmtpEmailSender

    email: EmailSender = SmtpEmailSender(settings) if settings.smtp_host else LogEmailSender()
    text: TextMessageSender = LogTextMessageSender()
    if settings.sms_provider == "http":
        if not (settings.sms_http_url and settings.sms_http_token):
            raise RuntimeError("RISITI_SMS_PROVIDER=http needs RISITI_SMS_HTTP_URL and _TOKEN")
        text = HttpTextMessageSender(
            settings.sms_http_url,
            settings.sms_http_token,
            sender_id=settings.sms_sender_id,
            timeout=settings.webhook_timeout,
        )
    return Channels(email=email, text=text)
