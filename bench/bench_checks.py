"""Synthetic checks: how many checks one runner invocation executes inside a 60 s budget against
loopback targets (goal: at least 500), and the public status page's size and load time.

Method: N checks (default 500; `BENCH_CHECKS`) — seven in eight HTTP checks with a keyword against
four loopback HTTP servers, one in eight TCP checks against a loopback listener — stored in a real
SQLite store; one `run_due` call with a 60 s budget runs them all (32 threads), recording every
result through the ingest path and each check's result document, exactly as the local scheduler and
the AWS job do. Checks per minute = checks run / seconds taken x 60. Then 20 of them are made
public with 90 days of daily counters and 10 incidents in the alert history, and a real local
server (`vigil serve`'s `LocalServer`, loopback HTTP) answers `GET /status` 30 times: the page's
bytes (and gzipped), and the median and p95 time to the whole answer.

Run alone: `.venv/bin/python -m bench.bench_checks` (`BENCH_CHECKS=100` while iterating).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from tests.check_targets import http_target, tcp_listener
from vigil.config import Config
from vigil.domain.checks import CheckIn
from vigil.local.server import LocalServer
from vigil.services import checks
from vigil.services.check_runner import run_due
from vigil.wiring import AppContext

BUDGET_SECONDS = 60.0
PUBLIC = 20
PAGE_LOADS = 30


def run() -> dict[str, Any]:
    count = int(os.environ.get("BENCH_CHECKS", "500"))
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        targets = [stack.enter_context(http_target()) for _ in range(4)]
        tcp_port = stack.enter_context(tcp_listener())
        config = Config(data_dir=Path(tmp) / "data", admin_token="bench")
        ctx = AppContext(config)
        for i in range(count):
            if i % 8 == 7:
                url, keyword = f"tcp://127.0.0.1:{tcp_port}", None
            else:
                url, keyword = targets[i % 4].url(f"/ok?check={i}"), "systems go"
            body = CheckIn(name=f"check {i:04}", url=url, keyword=keyword, interval=60, timeout=10)
            checks.create(ctx.store, config, body, time.time())
        started = time.monotonic()
        report = run_due(ctx.store, config, time.time(), budget=BUDGET_SECONDS)
        seconds = time.monotonic() - started
        figures: dict[str, Any] = {
            "checks": count,
            "checks_run_in_budget": len(report.ran),
            "checks_down": report.down,
            "run_seconds": round(seconds, 2),
            "checks_per_minute": round(len(report.ran) / seconds * 60.0),
            "goal_500_within_60s": len(report.ran) >= 500 and seconds <= BUDGET_SECONDS,
        }
        _publicise(ctx, min(PUBLIC, count))
        ctx.store.close()
        figures |= _page_figures(config)
    return figures


def _publicise(ctx: AppContext, public: int) -> None:
    """Public checks with 90 days of counters and 10 resolved incidents each for the first two."""
    now = time.time()
    today = int(now // 86400)
    for doc in sorted(ctx.store.list_docs(checks.KIND), key=lambda d: d["name"])[:public]:
        ctx.store.put_doc(
            checks.KIND, doc["id"], {**{k: v for k, v in doc.items() if k != "_version"}, "public": True}
        )
        state = ctx.store.get_doc(checks.STATE_KIND, doc["id"]) or {}
        days = {str(d): [1430 + (d % 11), 1440] for d in range(today - 89, today + 1)}
        ctx.store.put_doc(
            checks.STATE_KIND,
            doc["id"],
            {**{k: v for k, v in state.items() if k != "_version"}, "days": days},
        )
    for i in range(10):
        name = f"check {i % 2:04}"
        start = now - (i + 1) * 86400
        for to, at in (("firing", start), ("resolved", start + 600 + 60 * i)):
            doc = {"rule_id": "default-check-down", "group": {"check": name}, "to": to, "at": at}
            ctx.store.put_doc("alert_history", f"h-bench-{i}-{to}", doc)


def _page_figures(config: Config) -> dict[str, Any]:
    with LocalServer(config, port=0, agent=False) as server:
        server.check_scheduler.stop()  # measure the page, not a runner competing for the CPU
        session = requests.Session()
        times, body = [], b""
        for _ in range(PAGE_LOADS):
            started = time.perf_counter()
            answer = session.get(f"{server.url}/status", timeout=30)
            times.append((time.perf_counter() - started) * 1000.0)
            body = answer.content
        json_bytes = len(session.get(f"{server.url}/status.json", timeout=30).content)
    times.sort()
    return {
        "status_page_components": PUBLIC,
        "status_page_bytes": len(body),
        "status_page_gzip_bytes": len(gzip.compress(body)),
        "status_json_bytes": json_bytes,
        "status_page_load_ms_median": round(statistics.median(times), 1),
        "status_page_load_ms_p95": round(times[int(len(times) * 0.95) - 1], 1),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
