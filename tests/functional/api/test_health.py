"""GET|HEAD /health for uptime checkers: public, tiny, 200 when healthy and 503 naming the failing check."""

from __future__ import annotations

from tests.conftest import FrozenClock
from vigil.local.client import GatewayClient, json_of


def push(ingest: GatewayClient) -> None:
    assert (
        ingest.post(
            "/v1/samples",
            json={"host": "web-1", "samples": [{"metric": "system.cpu.utilization", "value": 0.1}]},
        ).status
        == 202
    )


def test_health_is_ok_before_any_host_reports(anonymous: GatewayClient) -> None:
    response = anonymous.get("/health")
    assert response.status == 200
    assert json_of(response)["status"] == "ok"
    assert len(response.body) < 200


def test_health_is_ok_with_fresh_samples_and_503_when_they_go_stale(
    anonymous: GatewayClient, ingest: GatewayClient, clock: FrozenClock
) -> None:
    push(ingest)
    assert json_of(anonymous.get("/health"))["checks"]["samples"] == "fresh"
    clock.advance(600)
    stale = anonymous.get("/health")
    assert stale.status == 503
    assert json_of(stale)["checks"]["samples"].startswith("stale")


def test_head_health_has_the_status_and_no_body(
    anonymous: GatewayClient, ingest: GatewayClient, clock: FrozenClock
) -> None:
    response = anonymous.request("HEAD", "/health")
    assert response.status == 200 and response.body == b""
    push(ingest)
    clock.advance(600)
    assert anonymous.request("HEAD", "/health").status == 503


def test_health_names_no_hosts_keys_or_paths(
    anonymous: GatewayClient, ingest: GatewayClient, ingest_key: str, config
) -> None:  # type: ignore[no-untyped-def]
    push(ingest)
    body = anonymous.get("/health").body.decode()
    for secret in ("web-1", ingest_key, str(config.data_dir), config.admin_token):
        assert secret not in body


def test_health_is_503_when_the_store_cannot_answer(anonymous: GatewayClient, ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.store.close()
    ctx.store.path.unlink()
    ctx.store.path.mkdir()  # a directory where the database file was: SQLite cannot open it
    response = anonymous.get("/health")
    assert response.status == 503
    assert json_of(response)["checks"]["store"] == "unavailable"


def dynamodb_health_requests(hosts: int, config, clock: FrozenClock) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """DynamoDB requests one GET /health sends (botocore hook on moto) after `hosts` hosts reported."""
    import boto3
    from moto import mock_aws

    from vigil.adapters.store.dynamodb import DynamoStore, create_tables
    from vigil.domain.models import Point
    from vigil.local.gateway import Gateway
    from vigil.wiring import AppContext

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, "samples", "meta")
        store = DynamoStore("samples", "meta", config.retention_seconds, client=client)
        now = clock.now()
        store.put_samples("web-0", [Point("web-0", "system.cpu.utilization", (), now - 5, 0.1)], None, now)
        # the other hosts' items as ingest writes them, 25 per request (1,000 real pushes take minutes)
        t = {"N": str(now)}
        items = [
            {"pk": {"S": "HOST"}, "sk": {"S": f"web-{h}"}, "first_seen": t, "last_seen": t}
            for h in range(1, hosts)
        ]
        others = [{"PutRequest": {"Item": item}} for item in items]
        for i in range(0, len(others), 25):
            client.batch_write_item(RequestItems={"meta": others[i : i + 25]})
        assert len(store.list_hosts()) == hosts
        calls: list[str] = []
        client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
        response = GatewayClient(Gateway(AppContext(config, clock=clock, _store=store))).get("/health")
        return len(calls), json_of(response)["checks"]["samples"]


def test_health_on_dynamodb_sends_as_many_requests_for_1000_hosts_as_for_10(
    config, clock: FrozenClock, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    small = dynamodb_health_requests(10, config, clock)
    large = dynamodb_health_requests(1000, config, clock)
    assert small == large == (2, "fresh")  # the ping and the freshness item


def test_health_reuses_the_newest_sample_time_for_a_few_seconds(
    anonymous: GatewayClient, ingest: GatewayClient, clock: FrozenClock
) -> None:
    assert json_of(anonymous.get("/health"))["checks"]["samples"] == "none yet"
    push(ingest)
    assert (
        json_of(anonymous.get("/health"))["checks"]["samples"] == "none yet"
    )  # the cached newest-sample time
    clock.advance(5)
    assert json_of(anonymous.get("/health"))["checks"]["samples"] == "fresh"
