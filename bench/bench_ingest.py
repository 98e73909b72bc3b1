"""Ingest throughput through the local server: real HTTP on loopback, 8 concurrent pushers, batches of
500 samples; then proof that every accepted sample is queryable. Prints figures; not a test."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import requests

from vigil.config import Config
from vigil.local.client import GatewayClient, json_of
from vigil.local.server import LocalServer


def run(pushers: int = 8, batch_size: int = 500, seconds: float = 10.0) -> dict[str, float]:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    data = Path(tempfile.mkdtemp(prefix="vigil-bench-ingest-"))
    with LocalServer(Config(data_dir=data, admin_token="bench"), port=0, agent=False, threads=8) as server:
        admin = GatewayClient(server.gateway, token="bench")
        key = json_of(admin.post("/api/keys", json={"name": "bench"}))["key"]
        accepted = [0] * pushers
        failures = [0] * pushers
        duplicates = [0] * pushers
        stop_at = time.monotonic() + seconds
        t0 = time.time() - 120

        def pusher(i: int) -> None:
            session = requests.Session()
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            n = 0
            while time.monotonic() < stop_at:
                # Timestamps unique per sample (not wall-clock): a VM clock that steps back would give two
                # batches the same (series, ts), which the store rightly treats as one sample.
                base = t0 + (n * batch_size) * 1e-4
                samples = [
                    {
                        "metric": f"bench.metric.{j % 20}",
                        "value": float(j),
                        "ts": base + j * 1e-4,
                        "labels": {"pusher": str(i)},
                    }
                    for j in range(batch_size)
                ]
                body = json.dumps({"host": f"host-{i}", "batch_id": f"p{i}-{n}", "samples": samples})
                response = session.post(f"{server.url}/v1/samples", data=body, headers=headers, timeout=30)
                if response.status_code == 202:
                    answer = response.json()
                    if answer["duplicate"]:
                        duplicates[i] += 1
                    else:
                        accepted[i] += answer["accepted"]
                else:
                    failures[i] += 1
                n += 1

        started = time.monotonic()
        threads = [threading.Thread(target=pusher, args=(i,)) for i in range(pushers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        total = sum(accepted)
        stored = 0
        for j in range(20):
            stored += sum(1 for _ in server.ctx.store.query_points(f"bench.metric.{j}", 0, time.time() + 60))
    return {
        "samples_per_second": total / elapsed,
        "accepted": total,
        "stored": stored,
        "failed_batches": sum(failures),
        "duplicate_batches": sum(duplicates),
        "seconds": elapsed,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(json.dumps(run(seconds=args.seconds), indent=2))
