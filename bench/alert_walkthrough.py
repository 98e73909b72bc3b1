"""The alerting walkthrough in docs/alerting.md, generated (not a test, not a benchmark):
`.venv/bin/python -m bench.alert_walkthrough > walkthrough.txt`.

It starts a real `LocalServer` (what `vigil serve --no-agent` runs; default settings, so the evaluator
ticks every 10 s in real time), a loopback HTTP receiver standing in for Slack, and then talks to the
server over HTTP, printing each request as the equivalent curl command and the answer: the default CPU
rule fires on pushed samples, the Slack Block Kit payload the receiver got, the resolve notice, a
silence muting the same rule for another host, and the backtest of the rule over the stored history.
Takes about 30-40 s (three evaluation ticks).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from vigil.config import Config
from vigil.local.server import LocalServer

WAIT_SECONDS = 30.0


class Inbox:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.changed = threading.Condition()

    def wait_for(self, count: int) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.bodies) >= count, timeout=WAIT_SECONDS):
                raise RuntimeError(f"receiver got {len(self.bodies)} messages, expected {count}")


@contextmanager
def slack_receiver(inbox: Inbox) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            with inbox.changed:
                inbox.bodies.append(body)
                inbox.changed.notify_all()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T0000/B0000/XXXXXXXX"
    finally:
        server.shutdown()
        server.server_close()


class Shell:
    """Sends requests and prints them curl-style; tokens are shown as $ADMIN / $KEY."""

    def __init__(self, base: str, admin: str) -> None:
        self.base, self.tokens = base, {"$ADMIN": admin}
        self.http = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str = "$ADMIN",
        show: Any = None,
        brief: str = "",
    ) -> Any:
        data = "" if body is None else f" -d '{brief or json.dumps(body)}'"
        print(f"$ curl -s -X {method} $VIGIL{path} -H 'Authorization: Bearer {token}'{data}")
        response = self.http.request(
            method,
            self.base + path,
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[token]}"},
            timeout=10,
        )
        answer = response.json() if response.content else None
        shown = show(answer) if show is not None else answer
        print(f"HTTP {response.status_code}", json.dumps(shown, indent=2, ensure_ascii=False), sep="\n")
        print()
        return answer


def say(text: str) -> None:
    print(f"# {text}")


def main() -> None:
    config = Config.from_env().with_(data_dir=Path(tempfile.mkdtemp(prefix="vigil-walkthrough-")))
    inbox = Inbox()
    with (
        slack_receiver(inbox) as slack_url,
        LocalServer(config.with_(allow_private_webhooks=True), port=0, agent=False) as server,
    ):
        sh = Shell(server.url, server.admin_token)
        say(f"vigil serve --no-agent: {server.url} (VIGIL), evaluator every {config.interval_seconds:g} s")
        say("an ingest key, and a Slack channel whose webhook URL is a local receiver")
        key = sh.call("POST", "/api/keys", {"name": "walkthrough"}, show=lambda a: {**a, "key": "vk_…"})
        sh.tokens["$KEY"] = key["key"]
        channel = sh.call("POST", "/api/channels", {"type": "slack", "name": "ops", "target": slack_url})
        say("the shipped default CPU rule (seeded on first start), with the channel attached")
        rule = sh.call("GET", "/api/alerts/rules/default-cpu")
        rule.pop("id")
        sh.call(
            "PUT",
            "/api/alerts/rules/default-cpu",
            {**rule, "channels": [channel["id"]]},
            show=lambda a: {
                k: a[k] for k in ("id", "metric", "agg", "window", "op", "threshold", "channels")
            },
        )

        say("web-1 reports 93 % CPU")
        sample = {"metric": "system.cpu.utilization", "value": 0.93}
        sh.call("POST", "/v1/samples", {"host": "web-1", "samples": [sample]}, token="$KEY")
        inbox.wait_for(1)
        say("at the next evaluator tick the local Slack receiver got (Block Kit):")
        print(json.dumps(inbox.bodies[0], indent=2, ensure_ascii=False), "\n")
        sh.call("GET", "/api/alerts", show=lambda a: {"firing": [_brief(f) for f in a["firing"]]})

        say("web-1 calms down: 30 samples at 12 % over the last 5 minutes bring the 5m average under 80 %")
        now = time.time()
        calm = [
            {"metric": "system.cpu.utilization", "value": 0.12, "ts": now - 295 + 10 * i} for i in range(30)
        ]
        brief = (
            '{"host": "web-1", "samples": [{"metric": "system.cpu.utilization", "value": 0.12, '
            '"ts": <now-295>}, … 30 samples, 10 s apart]}'
        )
        sh.call("POST", "/v1/samples", {"host": "web-1", "samples": calm}, token="$KEY", brief=brief)
        inbox.wait_for(2)
        say("the resolve notice the receiver got at the next tick:")
        print(json.dumps(inbox.bodies[1], indent=2, ensure_ascii=False), "\n")

        say("a silence for web-2 (maintenance), then web-2 breaches too")
        silence = {
            "matchers": [{"name": "host", "value": "web-2"}],
            "starts_at": int(time.time()) - 60,
            "ends_at": int(time.time()) + 3600,
            "comment": "kernel upgrade",
        }
        sh.call("POST", "/api/alerts/silences", silence)
        sh.call(
            "POST", "/v1/samples", {"host": "web-2", "samples": [{**sample, "value": 0.97}]}, token="$KEY"
        )
        _wait_firing(sh, "web-2")
        say(
            f"web-2 is firing, but the receiver still holds {len(inbox.bodies)} messages: the silence "
            "muted it"
        )
        sh.call(
            "GET",
            "/api/alerts",
            show=lambda a: {
                "firing": [_brief(f) for f in a["firing"]],
                "history": [h for h in a["history"] if h["rule_id"] == "default-cpu"],
            },
        )

        say("backtest: replay the saved rule over the stored history. Only web-2 fires: web-1's calm")
        say("samples above were back-dated into the same 5 minutes, and a replay sees all stored data")

        def without_rule(answer: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in answer.items() if k != "rule"}

        sh.call("POST", "/api/alerts/rules/test", {"rule_id": "default-cpu", "from": "-1h", "step": "10s"},
                show=without_rule)  # fmt: skip
        say("and a draft: would 'max over 1m > 80 %' have fired more often?")
        draft = {"name": "CPU spike", "metric": "system.cpu.utilization", "agg": "max", "window": "1m",
                 "op": ">", "threshold": 0.8}  # fmt: skip
        sh.call(
            "POST", "/api/alerts/rules/test", {"rule": draft, "from": "-1h", "step": "10s"}, show=without_rule
        )


def _brief(alert: dict[str, Any]) -> dict[str, Any]:
    return {k: alert[k] for k in ("id", "rule_id", "labels", "status", "value", "fired_at", "told")}


def _wait_firing(sh: Shell, host: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        alerts = sh.http.get(
            sh.base + "/api/alerts", headers={"Authorization": f"Bearer {sh.tokens['$ADMIN']}"}, timeout=10
        ).json()
        if any(a["labels"].get("host") == host for a in alerts["firing"]):
            return
        time.sleep(0.2)  # polling a condition in a script, not a test
    raise RuntimeError(f"{host} never fired")


if __name__ == "__main__":
    main()
