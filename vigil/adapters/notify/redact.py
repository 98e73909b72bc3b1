"""The one redaction helper every notifier log line and error message goes through.

Webhook URLs are credentials (Slack and Discord put the token in the path), so any URL is reduced to
its scheme and host, and every known secret (the channel's target URL, its path, its HMAC secret) is
replaced wherever it appears, even without a scheme (urllib3 errors print the bare path).
Standard library only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

REDACTED = "<redacted>"
_URL = re.compile(r"(?i)\b(https?)://([^/\s\"'<>]+)[^\s\"'<>]*")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every URL reduced to `scheme://host/<redacted>` and every secret removed."""
    out = text
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        for form in {secret, quote(secret, safe="")}:
            out = out.replace(form, REDACTED)
    return _URL.sub(lambda m: f"{m.group(1)}://{_host(m.group(2))}/{REDACTED}", out)


def url_secrets(url: str) -> list[str]:
    """The parts of a webhook URL to treat as secret: the URL itself, its path and its query."""
    parts = urlsplit(url)
    return [s for s in (url, parts.path if len(parts.path) > 1 else "", parts.query) if s]


def _host(netloc: str) -> str:
    return netloc.rsplit("@", 1)[-1]  # never keep user:password@


class _NoRequestPaths(logging.Filter):
    """urllib3 logs every request line (`"POST /services/T/B/token HTTP/1.1" 200`) at DEBUG: the path
    of a Slack or Discord webhook is its token, so paths in its log arguments are redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                f"/{REDACTED}" if isinstance(a, str) and a.startswith("/") else a for a in record.args
            )
        return True


def redact_library_logs() -> None:
    """Install the urllib3 log filter once (idempotent)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _NoRequestPaths) for f in logger.filters):
        logger.addFilter(_NoRequestPaths())
