"""The AWS `ChangeFeed`: publishes "what changed" to the dashboard's AppSync Events channel.

Ingest runs in many short-lived Lambda invocations, so coalescing is per warm container: changes
fold into one `domain.changes.Pending`, and a batch stored at least `MIN_GAP_SECONDS` after this
container's last publish sends everything pending (a timestamp in the process: no extra request,
no extra cost), and only while a dashboard says it is watching (`services.live_presence`). Changes
still pending when the container goes quiet are not sent — the dashboards'
10 s poll shows them. With N warm metrics containers a channel gets at most N messages a second.
The publish is one SigV4-signed HTTPS POST (`appsync:EventPublish`, IAM auth) with a short timeout;
a failure is logged and never fails the ingest request. Imports botocore only when publishing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Collection
from urllib.parse import urlparse

from vigil.domain.changes import Pending

log = logging.getLogger("vigil.live")
MIN_GAP_SECONDS = 1.0
CHANNEL = "/live/changes"  # infra/live.py: the `live` namespace
TIMEOUT_SECONDS = 2.0

Send = Callable[[urllib.request.Request], object]


def _urlopen(request: urllib.request.Request) -> object:
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
        return answer.status


class AppSyncEventsFeed:
    def __init__(
        self,
        url: str,
        send: Send = _urlopen,
        clock: Callable[[], float] = time.monotonic,
        watched: Callable[[], bool] = lambda: True,
    ) -> None:
        self._url = url
        self._watched = watched  # publish only while a dashboard is subscribed (services.live_presence)
        host = urlparse(url).hostname or ""
        # <id>.appsync-api.<region>.amazonaws.com
        self._region = host.split(".")[2] if host.count(".") >= 4 else "us-east-1"
        self._send = send
        self._clock = clock
        self._pending = Pending()
        self._last = float("-inf")
        self._lock = threading.Lock()
        self.published = 0

    def samples_stored(self, host: str, metrics: Collection[str]) -> None:
        with self._lock:
            self._pending.add_samples(host, metrics)
        self._maybe_publish()

    def alerts_changed(self) -> None:
        with self._lock:
            self._pending.add_alerts()
        self._maybe_publish()

    def _maybe_publish(self) -> None:
        with self._lock:
            now = self._clock()
            if not self._pending or now - self._last < MIN_GAP_SECONDS:
                return
            message, self._pending, self._last = self._pending.message(), Pending(), now
        try:
            if not self._watched():  # nobody subscribed: the change is dropped, not billed
                return
        except Exception:
            log.warning("could not tell whether a dashboard is watching; publishing", exc_info=True)
        body = json.dumps({"channel": CHANNEL, "events": [message.decode()]}).encode()
        try:
            self._send(self._signed(body))
            self.published += 1
        except Exception:  # a lost notice only delays dashboards until their next poll
            log.warning("could not publish a live update to AppSync Events", exc_info=True)

    def _signed(self, body: bytes) -> urllib.request.Request:
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = botocore.session.get_session().get_credentials()
        request = AWSRequest("POST", self._url, data=body, headers={"Content-Type": "application/json"})
        SigV4Auth(credentials, "appsync", self._region).add_auth(request)
        return urllib.request.Request(self._url, data=body, headers=dict(request.headers), method="POST")
