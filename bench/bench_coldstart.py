"""Handler cold start: wall time of importing each `functions/<name>/handler.py` (plus building its
resolver) in a fresh interpreter, against `import boto3; boto3.client("dynamodb")` in the same run.
Reports medians and the ratio (goal ≤ 1.5). Prints figures; not a test."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("VIGIL_BENCH_RUNS", "9"))
ENV = {
    **os.environ,
    "POWERTOOLS_METRICS_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
    "PYTHONDONTWRITEBYTECODE": "0",
}

TIMER = """
import time, sys
t0 = time.perf_counter()
{body}
print(time.perf_counter() - t0)
"""


def _median_ms(body: str) -> float:
    code = TIMER.format(body=body)
    subprocess.run(
        [sys.executable, "-c", code], env=ENV, cwd=ROOT, check=True, capture_output=True
    )  # warm pyc
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", code], env=ENV, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        samples.append(float(out.strip().splitlines()[-1]) * 1000)
    return statistics.median(samples)


def handler_body(name: str) -> str:
    return (
        f"import importlib.util as u\n"
        f"s = u.spec_from_file_location('h', 'functions/{name}/handler.py')\n"
        f"m = u.module_from_spec(s); s.loader.exec_module(m)\n"
    )


def run() -> dict[str, float]:
    baseline = _median_ms("import boto3\nboto3.client('dynamodb')")
    out: dict[str, float] = {"boto3_dynamodb_client_ms": round(baseline, 1)}
    for name in ("metrics", "health", "alerts", "notify"):
        if (ROOT / "functions" / name / "handler.py").exists():
            ms = _median_ms(handler_body(name))
            out[f"{name}_ms"] = round(ms, 1)
            out[f"{name}_ratio"] = round(ms / baseline, 2)
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
