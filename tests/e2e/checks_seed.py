"""Synthetic-check data for the browser tests and the screenshots: an hour of a check's phase
durations and up/down results, to push through `/v1/samples` as the runner ingests them (host
`vigil-checks`, labels `check` and `phase`; docs/metrics.md "Synthetic checks"), and an in-process
server whose public checks went down and came back (an incident in alert history)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.check_targets import closed_port, http_target
from tests.conftest import ADMIN_TOKEN
from tests.e2e.seeding import Server, push
from vigil.alerting.entry import evaluate_now
from vigil.config import Config
from vigil.local.server import LocalServer
from vigil.services.check_results import SYNTHETIC_HOST

# typical phase durations of an HTTPS endpoint, in seconds
PHASES = {"dns": 0.002, "connect": 0.012, "tls": 0.035, "ttfb": 0.11}


def check_history(
    name: str, *, minutes: int = 60, step: int = 30, down: range = range(0), now: float | None = None
) -> list[dict[str, Any]]:
    """`synthetic.duration` per phase (plus `total`) and `synthetic.up` every `step` s over the last
    `minutes`; runs whose index is in `down` failed (up 0, after a long connect)."""
    end = time.time() if now is None else now
    out: list[dict[str, Any]] = []
    for i in range(minutes * 60 // step):
        ts = end - (minutes * 60 // step - 1 - i) * step
        wave = 1 + 0.35 * math.sin(i / 9)
        phases = {
            k: round(v * wave * (1.8 if k == "ttfb" and i % 17 == 0 else 1), 5) for k, v in PHASES.items()
        }
        failed = i in down
        if failed:
            phases = {"dns": phases["dns"], "connect": 2.0}
        phases["total"] = round(sum(phases.values()) + (0 if failed else 0.008), 5)
        labels = {"check": name}
        out.append({"metric": "synthetic.up", "ts": ts, "value": 0.0 if failed else 1.0, "labels": labels})
        out += [
            {"metric": "synthetic.duration", "ts": ts, "value": v, "labels": {**labels, "phase": k}}
            for k, v in phases.items()
        ]
    return out


@contextmanager
def server_with_incident(data_dir: Path, *, history: bool = False) -> Iterator[LocalServer]:
    """Public checks "Web shop" (down twice in a row — "Check down" fired — then up again: one
    incident) and "Payments API", and a private "Internal batch". `history`: also an hour of phase
    samples for each and a private TCP check on a closed port (down), for the Checks page's pictures."""
    config = Config(data_dir=data_dir, admin_token=ADMIN_TOKEN, interval_seconds=10.0)
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with LocalServer(config, port=0, agent=False) as server, http_target() as target:

        def post(path: str, body: object = None) -> dict[str, Any]:
            answer = requests.post(f"{server.url}{path}", json=body, headers=auth, timeout=30)
            assert answer.status_code < 300, answer.text
            return dict(answer.json())

        shop = post(
            "/api/checks", {"name": "Web shop", "url": target.url(), "interval": "1h", "public": True}
        )
        post(
            "/api/checks",
            {"name": "Payments API", "url": target.url("/pay"), "interval": "1h", "public": True},
        )
        post("/api/checks", {"name": "Internal batch", "url": target.url("/batch"), "interval": "1h"})
        if history:
            key = post("/api/keys", {"name": "history"})["key"]
            as_server = Server(server.url, ADMIN_TOKEN, data_dir)
            for name, down in (
                ("Web shop", range(70, 74)),
                ("Payments API", range(0)),
                ("Internal batch", range(0)),
            ):
                push(as_server, key, SYNTHETIC_HOST, iter(check_history(name, down=down)))
            gone = f"tcp://127.0.0.1:{closed_port()}"
            post(
                "/api/checks", {"name": "Legacy FTP gateway", "url": gone, "interval": "1h", "timeout": "2s"}
            )
        listed = requests.get(f"{server.url}/api/checks", headers=auth, timeout=30).json()
        for check in listed:
            post(f"/api/checks/{check['id']}/run")
        target.stop()
        post(f"/api/checks/{shop['id']}/run")
        post(f"/api/checks/{shop['id']}/run")
        evaluate_now(server.ctx)  # "Check down" fires
        target.start()
        post(f"/api/checks/{shop['id']}/run")
        evaluate_now(server.ctx)  # and resolves: one incident with a start and an end
        yield server
