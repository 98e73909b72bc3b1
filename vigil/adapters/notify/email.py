"""E-mail over SMTP (`VIGIL_SMTP_URL`, e.g. `smtp://127.0.0.1:1025` or `smtps://host:465`): local mode
only — in AWS, e-mail goes through native SNS e-mail subscriptions filtered on the channel id.

SMTP 5xx answers are final; 4xx, refused connections and timeouts are retryable. Credentials in the
SMTP URL (`smtp://user:pass@host`) are used for login and redacted from every message.
Imports: standard library, `vigil.adapters.notify`, `vigil.domain`.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from vigil.adapters.notify.base import NotifyContext, alert_url, facts, subject_line
from vigil.adapters.notify.redact import redact
from vigil.domain.alerts import Notification
from vigil.domain.channels import ChannelLike
from vigil.domain.errors import DeliveryError


def email_message(n: Notification, sender: str, recipient: str, public_url: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject_line(n.title(), 200)
    msg["From"] = sender
    msg["To"] = recipient
    msg["X-Vigil-Notification-Id"] = n.id
    lines = [n.message, "", *(f"{k}: {v}" for k, v in facts(n)), "", alert_url(public_url, n)]
    msg.set_content("\n".join(lines))
    return msg


class EmailNotifier:
    def __init__(self, channel: ChannelLike, ctx: NotifyContext) -> None:
        self.channel, self.ctx = channel, ctx

    def send(self, notification: Notification) -> None:
        if not self.ctx.smtp_url:
            raise DeliveryError(
                "e-mail is not configured here: set VIGIL_SMTP_URL (smtp://host:port)", retryable=False
            )
        url = urlsplit(self.ctx.smtp_url)
        secrets = [self.ctx.smtp_url, url.password]
        if url.scheme not in ("smtp", "smtps") or not url.hostname:
            raise DeliveryError(
                redact("VIGIL_SMTP_URL must look like smtp://host:port", secrets), retryable=False
            )
        msg = email_message(notification, self.ctx.mail_from, self.channel.target, self.ctx.public_url)
        timeout = max(1.0, min(10.0, self.ctx.http.deadline.remaining()))
        smtp_cls = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        try:
            with smtp_cls(
                url.hostname, url.port or (465 if url.scheme == "smtps" else 25), timeout=timeout
            ) as smtp:
                if url.username:
                    smtp.login(unquote(url.username), unquote(url.password or ""))
                smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                redact(f"e-mail channel {self.channel.id}: SMTP {exc.smtp_code}", secrets),
                retryable=exc.smtp_code < 500,
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"e-mail channel {self.channel.id}: recipient refused (SMTP {codes})",
                retryable=all(c < 500 for c in codes),
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                redact(f"e-mail channel {self.channel.id}: {type(exc).__name__}: {exc}", secrets),
                retryable=True,
            ) from None
