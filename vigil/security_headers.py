"""The browser security headers of Vigil's dashboard and API: ONE definition that the CloudFront
deployment (`infra/site.py`, a response headers policy) and the local server (every response) both
use, so local mode and AWS send the same policy.

Standard library only (imported by infra/ at synth time and by the Lambda layer's package).
"""

from __future__ import annotations

from collections.abc import Sequence

FRAME_OPTIONS = "DENY"
REFERRER_POLICY = "strict-origin-when-cross-origin"
CONTENT_TYPE_OPTIONS = "nosniff"
XSS_PROTECTION = "1; mode=block"  # what CloudFront's `protection=True, mode_block=True` sends
HSTS_MAX_AGE_SECONDS = 365 * 86400  # HTTPS only: CloudFront sends it, plain-HTTP local mode does not


def content_security_policy(connect_src: Sequence[str] = (), form_action: Sequence[str] = ()) -> str:
    """Scripts and styles only from the site itself; API calls to the site plus `connect_src` (AWS:
    API Gateway and Cognito hosts); no framing by anyone."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",  # chart libraries set inline style attributes
            "img-src 'self' data:",
            "worker-src 'self'",  # the dashboard's service worker (sw.js), same origin only
            "manifest-src 'self'",  # the installable app's manifest
            " ".join(["connect-src 'self'", *connect_src]),
            " ".join(["form-action 'self'", *form_action]),
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


def local_headers() -> list[tuple[str, str]]:
    """What the local server adds to every response (same origin: nothing beyond 'self')."""
    return [
        ("Content-Security-Policy", content_security_policy()),
        ("X-Content-Type-Options", CONTENT_TYPE_OPTIONS),
        ("X-Frame-Options", FRAME_OPTIONS),
        ("Referrer-Policy", REFERRER_POLICY),
        ("X-XSS-Protection", XSS_PROTECTION),
    ]
