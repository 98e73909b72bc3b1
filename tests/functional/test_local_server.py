"""`vigil serve` as a newcomer meets it: real HTTP on loopback, the dashboard on the same origin, the
admin token kept in the data dir, and the local agent filling charts with this machine's metrics."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import requests

from tests.waiting import wait_until
from vigil.config import Config
from vigil.local.server import LocalServer


def test_serve_answers_health_api_and_dashboard_on_one_origin(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "d", interval_seconds=0.2)
    with LocalServer(config, port=0, agent=False) as server:
        assert requests.get(f"{server.url}/health", timeout=5).status_code == 200
        head = requests.head(f"{server.url}/health", timeout=5)
        assert head.status_code == 200 and head.content == b""
        page = requests.get(f"{server.url}/", timeout=5)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert requests.get(f"{server.url}/config.json", timeout=5).json()["auth"]["mode"] == "local"
        assert requests.get(f"{server.url}/api/hosts", timeout=5).status_code == 401
        auth = {"Authorization": f"Bearer {server.admin_token}"}
        assert "hosts" in requests.get(f"{server.url}/api/hosts", headers=auth, timeout=5).json()
        assert requests.get(f"{server.url}/../../etc/passwd", timeout=5).status_code in (200, 404)
        assert "root:" not in requests.get(f"{server.url}/..%2f..%2fetc/passwd", timeout=5).text


def test_the_admin_token_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "d")
    first = LocalServer(config, port=0, agent=False)
    token_file = tmp_path / "d" / "admin-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    again = LocalServer(config, port=0, agent=False)
    assert first.admin_token == again.admin_token
    env_token = LocalServer(config.with_(admin_token="from-env"), port=0, agent=False)
    assert env_token.admin_token == "from-env"


def test_the_local_agent_fills_cpu_and_memory_through_the_real_handlers(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "d", interval_seconds=0.2)
    with LocalServer(config, port=0, agent=True) as server:
        auth = {"Authorization": f"Bearer {server.admin_token}"}

        def cpu_points() -> int:
            body = requests.get(
                f"{server.url}/api/metrics/series",
                headers=auth,
                timeout=5,
                params={"metric": "system.cpu.utilization", "from": "-5m", "agg": "count", "step": "10"},
            ).json()
            return sum(v or 0 for s in body["series"] for v in s["values"])

        wait_until(lambda: cpu_points() >= 2, timeout=20, what="two CPU samples from the local agent")
        metrics = requests.get(f"{server.url}/api/metrics/catalog", headers=auth, timeout=5).json()["metrics"]
        seen = {m["name"] for m in metrics if m["seen"]}
        assert {"system.cpu.utilization", "system.memory.utilization"} <= seen
        hosts = requests.get(f"{server.url}/api/hosts", headers=auth, timeout=5).json()["hosts"]
        assert len(hosts) == 1 and hosts[0]["up"] is True


def test_vigil_serve_prints_the_url_with_the_token_in_the_fragment_on_its_first_start(tmp_path: Path) -> None:
    env = {**os.environ, "POWERTOOLS_METRICS_DISABLED": "true"}
    env.pop("VIGIL_ADMIN_TOKEN", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vigil.cli",
            "serve",
            "--port",
            "0",
            "--no-agent",
            "--data-dir",
            str(tmp_path / "d"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        url_line = next(line for line in lines if "#token=" in line).strip()
        token = (tmp_path / "d" / "admin-token").read_text().strip()
        assert url_line.startswith("http://127.0.0.1:") and url_line.endswith(f"/#token={token}")
        base = url_line.split("/#")[0]
        assert requests.get(f"{base}/health", timeout=5).status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_concurrent_requests_never_see_each_others_query_strings(tmp_path: Path) -> None:
    """Powertools keeps the current event on a class attribute; overlapping invocations once made a
    request validate another's query string ("metric: is required" with a metric in the URL)."""
    from concurrent.futures import ThreadPoolExecutor

    config = Config(data_dir=tmp_path / "d", admin_token="t")
    metrics = [f"app.metric.{i}" for i in range(8)]
    with LocalServer(config, port=0, agent=False) as server:
        auth = {"Authorization": "Bearer t"}

        def ask(metric: str) -> tuple[int, str]:
            with requests.Session() as session:
                answers = [
                    session.get(
                        f"{server.url}/api/metrics/series",
                        headers=auth,
                        timeout=10,
                        params={"metric": metric, "from": "-1h", "agg": "avg"},
                    )
                    for _ in range(15)
                ]
            wrong = [r for r in answers if r.status_code != 200 or r.json()["metric"] != metric]
            return len(wrong), metric

        with ThreadPoolExecutor(len(metrics)) as pool:
            results = list(pool.map(ask, metrics))
    assert results == [(0, m) for m in metrics]
