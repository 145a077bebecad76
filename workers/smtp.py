"""Invoice email over SMTP (aiosmtplib), with plain, STARTTLS or implicit TLS connections."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from risiti.config import Settings
from risiti.workers.channels import SendError


class SmtpEmailSender:
    """Sends each message over its own SMTP connection to the configured server."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage) -> None:
        settings = self._settings
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                use_tls=settings.smtp_tls == "tls",
                start_tls=settings.smtp_tls == "starttls",
                timeout=settings.smtp_timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [recipient.code for recipient in refused.recipients]
            raise SendError(_describe(refused), permanent=all(c >= 500 for c in codes)) from None
        except aiosmtplib.SMTPResponseException as error:
            # 5xx is the server's final word; 4xx (busy, greylisted) passes.
            raise SendError(_describe(error), permanent=error.code >= 500) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise SendError(_describe(error), permanent=False) from None


def _describe(error: Exception) -> str:
    return f"SMTP: {error}"[:500]
