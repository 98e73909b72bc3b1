"""Lambda cold start per function: importing `functions/<name>/handler.py` plus its first invocation,
in a fresh CPython 3.14 process, from the layer with its byte-code as shipped.

What runs, exactly: the shipped layer holds aarch64 wheels, which this x86_64 machine cannot load, so
the bench builds the same layer for `manylinux2014_x86_64` (`build/bench-layer/`, same dependency
pins, same `vigil` copy, byte-code compiled the same way by `infra/bytecode.py`) and runs it with
Debian's CPython 3.14 (the interpreter that compiles the layer; its standard library is compiled
too, as the Lambda runtime's is). Each sample is one new process: `sys.path` = the function's folder
and the layer, the synthesized template's environment for that function, AWS on moto's loopback
server, `PYTHONDONTWRITEBYTECODE=1` (Lambda's code and layer are read-only). Timed inside the process:
the handler import, then one `handler(event, context)` with a real event shape:

- health: `GET /health` (API Gateway v2, public);
- metrics: `POST /v1/samples` with an ingest key (the agents' request, its most frequent cold start);
- alerts: the EventBridge evaluation (every minute), with one rule that fires and is published;
- notify: the SNS record of that notification, delivered to a webhook on a loopback receiver.

Not included: the Lambda runtime's own start (process, bootstrap), interpreter start-up (reported
apart as `python_startup_ms`), network latency to real AWS. Goals (issue 14): health <= 300 ms,
metrics <= 600 ms, alerts and notify <= 500 ms. `VIGIL_BENCH_RUNS` samples per function (median).

On a shared machine times move by ±20 % and more from run to run; `VIGIL_BENCH_INSTRUCTIONS=1` adds
`<function>_cold_minstr`: the instructions (millions, valgrind's cachegrind, one sample: the count
barely moves) of import + first invocation, less the interpreter's start-up — the figure to compare
two versions by when the load is not steady.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra import build_layer, bytecode  # noqa: E402

RUNS = int(os.environ.get("VIGIL_BENCH_RUNS", "7"))
GOALS_MS = {"health": 300, "metrics": 600, "alerts": 500, "notify": 500}
BENCH_LAYER = build_layer.Target(ROOT / "build" / "bench-layer", "manylinux2014_x86_64")
_CACHEGRIND = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
CONTEXT = {"stage": "dev", "alertEmails": "oncall@example.com", "allowedOrigins": "http://localhost:5173"}

TIMED = """
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import handler
t1, c1 = time.perf_counter(), time.process_time()
class Context:
    function_name = "vigil-bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:vigil-bench"
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self):
        return 30000
event = json.loads(sys.stdin.read())
try:
    answer = handler.handler(event, Context())
except Exception as exc:
    answer = {"error": repr(exc)}
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({
    "import_ms": (t1 - t0) * 1000, "first_ms": (t2 - t1) * 1000, "cpu_ms": (c2 - c0) * 1000, "answer": answer,
}))
"""


class Bench:
    """The template on moto, the x86_64 layer, the 3.14 interpreter; one fresh process per sample."""

    def __init__(self, template: dict[str, Any], endpoint: str, code: Path = ROOT) -> None:
        """`code`: the checkout whose `functions/` and built layer run (another for a before/after)."""
        from tests.infra.deployed import Deployment

        self.deployment = Deployment.create(template, endpoint)
        self.python = bytecode.interpreter(bytecode.RUN_PACKAGES)
        self.site = build_layer.build(target=BENCH_LAYER) / "python" if code == ROOT else code / "layer"
        self.functions = code / "functions"

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        env = {
            **self.deployment.process_environment(function),
            "PYTHONPATH": f"{self.functions / function}:{self.site}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        done = subprocess.run(
            [*self.python, "-c", TIMED],
            input=json.dumps(event),
            env=env,
            cwd=self.functions / function,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{function}: {done.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        answer = result["answer"]
        if "error" in answer or int(answer.get("statusCode", 200)) >= 400:
            raise RuntimeError(f"{function} answered {str(answer)[:500]}")
        return result

    def instructions(self, function: str, event: dict[str, Any]) -> float:
        """Millions of instructions of one import + first invocation, interpreter start-up included."""
        env = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
        if function:  # "": the interpreter's start-up alone
            env |= {
                **self.deployment.process_environment(function),
                "PYTHONPATH": f"{self.functions / function}:{self.site}",
            }
        code = TIMED if function else "pass"
        done = subprocess.run(
            [*_CACHEGRIND, *self.python, "-c", code],
            input=json.dumps(event),
            env=env,
            cwd=self.functions / (function or "health"),
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        counted = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
        if done.returncode != 0 or counted is None:
            raise RuntimeError(f"{function or 'start-up'} under valgrind: {done.stderr[-2000:]}")
        return int(counted.group(1).replace(",", "")) / 1e6

    def python_startup_ms(self) -> float:
        started = time.perf_counter()
        subprocess.run([*self.python, "-c", "pass"], check=True, env={"PYTHONDONTWRITEBYTECODE": "1"})
        return (time.perf_counter() - started) * 1000


def _events(bench: Bench, hook: str) -> dict[str, Any]:
    """One event per function; the setup calls (a key, a channel, a firing rule) run untimed."""
    from tests.infra.test_deployed_functions import SCHEDULED, api, hot_cpu_rule, sns_event

    key = json.loads(bench.invoke("metrics", api("POST", "/api/keys", {"name": "bench"}))["answer"]["body"])
    channel = {"type": "webhook", "name": "hook", "target": hook}
    made = bench.invoke("alerts", api("POST", "/api/channels", channel))["answer"]["body"]
    rule = hot_cpu_rule(json.loads(made)["id"])
    bench.invoke("alerts", api("POST", "/api/alerts/rules", rule))
    samples = [
        {"metric": "system.cpu.utilization", "value": 0.97, "ts": time.time() - 60 * i} for i in range(5)
    ]
    ingest = api("POST", "/v1/samples", {"host": "web-1", "samples": samples}, key=key["key"])
    bench.invoke("metrics", ingest)
    bench.invoke("alerts", SCHEDULED)  # the rule fires: its notification is on the topic now
    return {
        "health": api("GET", "/health"),
        "metrics": ingest,
        "alerts": SCHEDULED,
        "notify": sns_event(bench.deployment),
    }


def _fresh(function: str, event: dict[str, Any], run: int) -> dict[str, Any]:
    """Notify skips channels a notification id was already delivered to: a new id per sample."""
    if function != "notify":
        return event
    record = event["Records"][0]
    message = json.loads(record["Sns"]["Message"])
    message["id"] = f"{message['id']}-{run}"
    return {"Records": [{**record, "Sns": {**record["Sns"], "Message": json.dumps(message)}}]}


def _template() -> dict[str, Any]:
    from infra.stack import build_app

    build_layer.build()
    with tempfile.TemporaryDirectory() as out:
        app, stack = build_app(dict(CONTEXT), outdir=out)
        assembly = app.synth()
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        template: dict[str, Any] = json.loads((Path(out) / artifact.template_file).read_text())
    return template


def run(code: Path = ROOT) -> dict[str, Any]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    template = _template()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    from tests.infra.test_deployed_functions import Receiver, start_receiver

    receiver = Receiver()
    webhooks = start_receiver(receiver)
    try:
        host, port = server.get_host_and_port()
        bench = Bench(template, f"http://{host}:{port}", code)
        events = _events(bench, f"http://127.0.0.1:{receiver.port}/hook")
        out: dict[str, Any] = {
            "python": f"Debian CPython {bytecode.PYTHON_VERSION} (x86_64), layer built for "
            f"{BENCH_LAYER.platform} with {bytecode.INVALIDATION_MODE} byte-code",
            "runs": RUNS,
            "load_average_1m_at_start": round(os.getloadavg()[0], 1),
            "python_startup_ms": round(statistics.median(bench.python_startup_ms() for _ in range(RUNS)), 1),
        }
        counting = os.environ.get("VIGIL_BENCH_INSTRUCTIONS") == "1" and shutil.which("valgrind") is not None
        startup = bench.instructions("", {}) if counting else 0.0
        for function, event in events.items():
            samples = [bench.invoke(function, _fresh(function, event, i)) for i in range(RUNS)]
            imports = statistics.median(s["import_ms"] for s in samples)
            first = statistics.median(s["first_ms"] for s in samples)
            total = statistics.median(s["import_ms"] + s["first_ms"] for s in samples)
            out[f"{function}_import_ms"] = round(imports, 1)
            out[f"{function}_first_invocation_ms"] = round(first, 1)
            out[f"{function}_cold_ms"] = round(total, 1)
            out[f"{function}_cold_cpu_ms"] = round(statistics.median(s["cpu_ms"] for s in samples), 1)
            out[f"{function}_goal_ms"] = GOALS_MS[function]
            if counting:
                made = bench.instructions(function, _fresh(function, event, RUNS))
                out[f"{function}_cold_minstr"] = round(made - startup)
        out["load_average_1m_at_end"] = round(os.getloadavg()[0], 1)
        return out
    finally:
        webhooks.shutdown()
        webhooks.server_close()
        server.stop()


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
