"""The scale harness's Lambda duration and monthly cost model (`bench_scale` measures, this prices).

Duration of one invocation, MODELLED (moto's wall time says nothing about DynamoDB's):
  (CPU + requests x CLIENT_CPU_MS) x max(1, 1,769 MB / memory)
    + requests x (REQUEST_MS - CLIENT_CPU_MS) / pool
- CPU: the operation's own CPU measured here (`time.process_time`, less what its requests spent in
  botocore, moto and the meter); one core here taken as one Lambda vCPU, which Lambda gives at 1,769 MB
  and proportionally less below.
- A request is `REQUEST_MS` (6 ms, assumed: an in-region round trip with the client's work), of which
  `CLIENT_CPU_MS` is botocore's own CPU (sign, send, parse; measured against moto's server on loopback:
  1.3 ms per Query of a few items, 2 to 3 ms under load or for 60 items; the lower figure is taken).
  CPU, ours and botocore's, holds the GIL: it never overlaps, so it scales with the vCPU share. The rest
  of the round trip is waiting, which `pool` requests in flight at once overlap (`fanout`,
  READ_CONCURRENCY = 16 for the per-host reads; 1 where the code issues requests one after another).
  With pool 1 at a full vCPU this is exactly the sequential model used before (CPU + 6 ms a request).
- Each run is checked against its function's timeout (`<op>_wall_vs_timeout`, goal ≤ 0.8 at 10,000
  hosts): the evaluator's minute tick and its hourly forecast run in the alerts function (50 s), the
  fleet tier and each rollup shard in the jobs function (240 s; `infra/sizing.py`). The rollup run is
  `ROLLUP_SHARDS` concurrent invocations; one invocation's duration is the fullest shard's share of the
  run's CPU and requests (`bench_scale.largest_shard_share`: the same hash over the bench's host names).

Monthly cost: as before (bench_scale's module), with the rollup run billed as its shards: each of the
`ROLLUP_SHARDS` targets is invoked every 5 minutes, one run an hour does the work and the other eleven
read their progress and the shared watermark (2 GetItems) and return.
"""

from __future__ import annotations

from bench.bench_cost import PRICES
from infra.sizing import EVALUATOR_TIMEOUT_SECONDS, JOBS_TIMEOUT_SECONDS, ROLLUP_SHARDS
from vigil.adapters.store.fanout import READ_CONCURRENCY
from vigil.api.route_table import FUNCTION_MEMORY_MB, JOBS_MEMORY_MB
from vigil.domain.pricing import LOG_BYTES_PER_INVOCATION

MONTH_MINUTES = 43_200
LOG_BYTES, LOG_GB_USD = LOG_BYTES_PER_INVOCATION, PRICES["log_gb"]
FULL_VCPU_MB = 1769
REQUEST_MS = 6.0
CLIENT_CPU_MS = 1.3
# One line of the HTTP API's access log (infra/api.py's format, typical values) + CloudWatch's 26 bytes
# of per-event overhead: paid per request through the API, not through the Function URL.
ACCESS_LOG_BYTES = 380
MEMORY_MB: dict[str, int] = {**FUNCTION_MEMORY_MB, "jobs": JOBS_MEMORY_MB}
TIMEOUT_S: dict[str, float] = {"alerts": EVALUATOR_TIMEOUT_SECONDS, "jobs": JOBS_TIMEOUT_SECONDS}
RUN_FUNCTION = {
    "evaluator_tick": "alerts",
    "forecast_run": "alerts",
    "fleet_run": "jobs",
    "rollup_run": "jobs",
}
RUN_POOL = {"evaluator_tick": READ_CONCURRENCY, "forecast_run": READ_CONCURRENCY}
RUN_POOL |= {"fleet_run": READ_CONCURRENCY, "rollup_run": 1}
# invocations a month that do the work (each rollup shard once an hour)
RUNS_PER_MONTH = {"evaluator_tick": MONTH_MINUTES, "forecast_run": 720, "fleet_run": 8640, "rollup_run": 720}
IDLE_SHARD_RUNS = 8640 - 720  # per shard: the 5-minute runs with nothing due
IDLE_SHARD_REQUESTS = 2  # its progress and the shared watermark


def lambda_seconds(cpu_s: float, requests: float, function: str, pool: int = 1) -> float:
    """Modelled duration of one invocation (see the module)."""
    slowdown = max(1.0, FULL_VCPU_MB / MEMORY_MB[function])
    cpu = cpu_s + requests * CLIENT_CPU_MS / 1000
    return cpu * slowdown + requests * (REQUEST_MS - CLIENT_CPU_MS) / 1000 / pool


def gb(function: str) -> float:
    return MEMORY_MB[function] / 1024


def monthly_cost(
    n: float,
    op: dict[str, dict[str, float]],
    cpu: dict[str, float],
    stored: float,
    *,
    via_http_api: bool = False,
) -> dict[str, float]:
    """US$ per host-month at `n` hosts by part (see bench_scale for what is assumed). Pushes reach the
    metrics function through its Function URL (no API Gateway request, no access-log line), or with
    `via_http_api` through the HTTP API as before."""
    pushes = n * MONTH_MINUTES
    per_push_s = lambda_seconds(cpu["ingest_minute"] / n, op["ingest_minute"]["requests"] / n, "metrics")
    out = {
        "push": pushes * PRICES["lambda_request"]
        + pushes * gb("metrics") * per_push_s * PRICES["gb_second"]
        + MONTH_MINUTES
        * (op["ingest_minute"]["wru"] * PRICES["wru"] + op["ingest_minute"]["rru"] * PRICES["rru"])
    }
    if via_http_api:
        out["push"] += pushes * (PRICES["http_request"] + ACCESS_LOG_BYTES / 1e9 * LOG_GB_USD)
    for name, per_month in RUNS_PER_MONTH.items():
        function = RUN_FUNCTION[name]
        # a sharded run's invocations together take its whole CPU and requests
        seconds = lambda_seconds(cpu[name], op[name]["requests"], function, RUN_POOL[name])
        invocations = per_month * (ROLLUP_SHARDS if name == "rollup_run" else 1)
        out[name] = (
            per_month
            * (
                op[name]["wru"] * PRICES["wru"]
                + op[name]["rru"] * PRICES["rru"]
                + gb(function) * seconds * PRICES["gb_second"]
            )
            + invocations * PRICES["lambda_request"]
        )
    idle = ROLLUP_SHARDS * IDLE_SHARD_RUNS
    idle_s = lambda_seconds(0.0, IDLE_SHARD_REQUESTS, "jobs")
    out["rollup_run"] += idle * (
        PRICES["lambda_request"]
        + gb("jobs") * idle_s * PRICES["gb_second"]
        + IDLE_SHARD_REQUESTS * 0.5 * PRICES["rru"]
    )
    invocations = pushes + MONTH_MINUTES + 720 + 8640 + ROLLUP_SHARDS * 8640
    out["logs"] = invocations * LOG_BYTES / 1e9 * LOG_GB_USD
    out["storage"] = stored / 1e9 * PRICES["gb_month"]
    return {k: v / n for k, v in out.items()}


def wall_vs_timeout(seconds: float, op: str) -> float:
    """One invocation's modelled duration as a share of its function's timeout."""
    return seconds / TIMEOUT_S[RUN_FUNCTION[op]]
