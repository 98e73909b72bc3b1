"""What the alerting API routes do, kept out of the route module so it is testable without HTTP:
rules CRUD and backtest, silences, channels (secrets never returned) and their test send, the inbox.
Raises domain errors only (`Invalid`, `NotFound`, `Conflict`); `vigil.api.errors` maps them.
Imports: `vigil.domain`, `vigil.ports`, `vigil.config`, `vigil.alerting`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from vigil.alerting import repo
from vigil.alerting.backtest import backtest
from vigil.alerting.ports import Publisher, Subscriptions
from vigil.alerting.service import retire_rule
from vigil.config import Config
from vigil.domain.channel_models import Channel, parse_channel
from vigil.domain.channels import NATIVE_SNS_TYPES
from vigil.domain.errors import Conflict, Invalid, NotFound
from vigil.domain.paging import paginate
from vigil.domain.rules import Rule, invalid_from, new_rule_id, parse_rule
from vigil.domain.silences import Silence
from vigil.domain.timeparse import parse_duration, parse_instant
from vigil.ports import Store

if TYPE_CHECKING:
    from vigil.domain.rules_yaml import Plan

MAX_BACKTEST_SECONDS = 7 * 86400.0


# -- rules -------------------------------------------------------------------------------------------
def list_rules(
    store: Store, *, limit: int, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of rules by id, and the next page's cursor."""
    page, next_cursor = paginate(repo.load_rules(store), lambda r: [r.id], limit=limit, cursor=cursor)
    return [r.wire() for r in page], next_cursor


def get_rule(store: Store, rule_id: str) -> Rule:
    doc = store.get_doc(repo.RULE_KIND, rule_id)
    if doc is None:
        raise NotFound(f"no rule with id {rule_id}", field="rule_id")
    return Rule.model_validate(repo.clean(doc))


def create_rule(store: Store, body: Any) -> dict[str, Any]:
    """Raises: Invalid (naming the field), Conflict (name already used)."""
    rule = parse_rule(body, rule_id=new_rule_id())
    _unique_name(store, rule)
    repo.save_rule(store, rule)
    return rule.wire()


def update_rule(store: Store, rule_id: str, body: Any) -> dict[str, Any]:
    get_rule(store, rule_id)
    rule = parse_rule(body, rule_id=rule_id)
    _unique_name(store, rule)
    repo.save_rule(store, rule)
    return rule.wire()


def delete_rule(store: Store, rule_id: str, now: float, publisher: Publisher | None = None) -> dict[str, Any]:
    """Resolves the rule's announced alerts (resolve notices through `publisher`, or the next evaluation
    tick without one), then deletes the rule and its state; history stays.

    Raises:
        NotFound: no such rule.
        Conflict: the evaluator was rewriting its state; try again.
    """
    report = retire_rule(store, publisher, get_rule(store, rule_id), now)
    return {"deleted": rule_id, "resolved": report.transitions, "notified": len(report.published)}


def apply_rules_yaml(
    store: Store,
    text: str,
    *,
    prune: bool = False,
    dry_run: bool = False,
    now: float | None = None,
    publisher: Publisher | None = None,
) -> Plan:
    """`vigil rules apply -f rules.yaml [--prune]`: idempotent create/update/(delete). Pruned rules
    retire like `delete_rule` (their firing alerts resolve first)."""
    from vigil.domain.rules_yaml import parse_rules_yaml, plan  # YAML only here: not on the API's cold start

    result = plan(parse_rules_yaml(text), repo.load_rules(store), prune=prune)
    if not dry_run:
        for rule in [*result.create, *result.update]:
            repo.save_rule(store, rule)
        for rule in result.delete:
            retire_rule(store, publisher, rule, time.time() if now is None else now)
    return result


def _unique_name(store: Store, rule: Rule) -> None:
    if any(r.name == rule.name and r.id != rule.id for r in repo.load_rules(store)):
        raise Conflict(f"a rule named {rule.name!r} already exists", field="name")


def run_backtest(store: Store, body: dict[str, Any], now: float) -> dict[str, Any]:
    """`POST /api/alerts/rules/test`: `{"rule": {...draft...}}` or `{"rule_id": "..."}`, optional
    `from` (default -7d), `to` (default now), `step` (default 1m)."""
    if isinstance(body.get("rule_id"), str):
        rule = get_rule(store, body["rule_id"])
    elif isinstance(body.get("rule"), dict):
        try:
            rule = parse_rule(body["rule"], rule_id="draft")
        except Invalid as exc:
            raise Invalid(f"rule.{exc.message}", field=f"rule.{exc.field}" if exc.field else "rule") from None
    else:
        raise Invalid("give either 'rule' (a draft rule) or 'rule_id'", field="rule")
    start = parse_instant(body.get("from", "-7d"), now=now, field="from")
    end = parse_instant(body.get("to", "now"), now=now, field="to")
    step = parse_duration(body.get("step", "1m"), field="step")
    if end - start > MAX_BACKTEST_SECONDS:
        start = end - MAX_BACKTEST_SECONDS  # raw history is kept 7 days; older would replay nothing
    if step < 1:
        raise Invalid("step must be at least 1s", field="step")
    hosts = [rule.filter.host] if rule.filter.host else None
    points = store.query_points(
        rule.metric, start - rule.window, end, hosts=hosts, labels=rule.filter.labels or None, now=now
    )
    out = backtest(rule.model_copy(update={"enabled": True}), points, start, end, step).to_json()
    return {"rule": rule.wire(), "from": start, "to": end, **out}


# -- silences ----------------------------------------------------------------------------------------
def list_silences(
    store: Store, now: float, *, limit: int, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of silences by id, and the next page's cursor."""
    page, next_cursor = paginate(repo.load_silences(store), lambda s: [s.id], limit=limit, cursor=cursor)
    return [{**s.model_dump(), "active": s.active(now)} for s in page], next_cursor


def create_silence(store: Store, body: Any, by: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid("a silence must be a JSON object", field="body")
    try:
        silence = Silence.model_validate({**body, "id": "s-" + new_rule_id()[2:], "created_by": by})
    except ValidationError as exc:
        raise invalid_from(exc) from None
    store.put_doc(repo.SILENCE_KIND, silence.id, silence.model_dump())
    return silence.model_dump()


def delete_silence(store: Store, silence_id: str) -> None:
    if not store.delete_doc(repo.SILENCE_KIND, silence_id):
        raise NotFound(f"no silence with id {silence_id}", field="silence_id")


# -- channels ----------------------------------------------------------------------------------------
def list_channels(
    store: Store, *, limit: int, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of channels by id (no secrets), and the next page's cursor."""
    docs = store.list_docs(repo.CHANNEL_KIND)
    page, next_cursor = paginate(docs, lambda d: [str(d["id"])], limit=limit, cursor=cursor)
    return [Channel.model_validate(repo.clean(d)).public() for d in page], next_cursor


def get_channel(store: Store, channel_id: str) -> Channel:
    channel = repo.load_channel(store, channel_id)
    if channel is None:
        raise NotFound(f"no channel with id {channel_id}", field="channel_id")
    return channel


def create_channel(
    store: Store,
    body: Any,
    subscriptions: Subscriptions | None = None,
    *,
    attach_to_defaults: Config | None = None,
) -> dict[str, Any]:
    """With `subscriptions` (AWS), an e-mail or SMS channel is subscribed to the alerts topic first; if
    SNS refuses, nothing is stored. With `attach_to_defaults` (the deployment's config), the channel
    is added to every default rule too and the answer lists them in `attached_to`."""
    channel = parse_channel(body, channel_id="c-" + new_rule_id()[2:])
    _sync_subscription(store, channel, subscriptions)
    store.put_doc(repo.CHANNEL_KIND, channel.id, channel.model_dump())
    if attach_to_defaults is None:
        return channel.public()
    return {
        **channel.public(),
        "attached_to": repo.attach_to_default_rules(store, attach_to_defaults, channel.id),
    }


def update_channel(
    store: Store, channel_id: str, body: Any, subscriptions: Subscriptions | None = None
) -> dict[str, Any]:
    """A body without `secret` keeps the stored one (the API never shows it, so clients cannot echo it)."""
    current = get_channel(store, channel_id)
    data = dict(body) if isinstance(body, dict) else body
    if isinstance(data, dict) and "secret" not in data and current.type == data.get("type", current.type):
        data["secret"] = current.secret
    channel = parse_channel(data, channel_id=channel_id)
    _sync_subscription(store, channel, subscriptions)
    store.put_doc(repo.CHANNEL_KIND, channel.id, channel.model_dump())
    return channel.public()


def delete_channel(store: Store, channel_id: str, subscriptions: Subscriptions | None = None) -> None:
    get_channel(store, channel_id)
    _sync_subscription(store, None, subscriptions, channel_id=channel_id)
    store.delete_doc(repo.CHANNEL_KIND, channel_id)


def _sync_subscription(
    store: Store,
    channel: Channel | None,
    subscriptions: Subscriptions | None,
    *,
    channel_id: str | None = None,
) -> None:
    """Make the topic subscription match the channel (None: deleted): subscribe an enabled e-mail/SMS
    channel's target, unsubscribe the previous target. The ARN is kept in a `channel_subscription`
    document under the channel's id."""
    if subscriptions is None:
        return
    cid = channel.id if channel is not None else str(channel_id)
    doc = store.get_doc(repo.SUBSCRIPTION_KIND, cid)
    wanted = (
        (channel.type, channel.target)
        if channel is not None and channel.enabled and channel.type in NATIVE_SNS_TYPES
        else None
    )
    have = (doc["protocol"], doc["endpoint"]) if doc is not None else None
    if wanted == have:
        return
    if wanted is not None:
        arn = subscriptions.subscribe(wanted[0], wanted[1], cid)
        store.put_doc(
            repo.SUBSCRIPTION_KIND,
            cid,
            {"id": cid, "arn": arn, "protocol": wanted[0], "endpoint": wanted[1]},
        )
    else:
        store.delete_doc(repo.SUBSCRIPTION_KIND, cid)
    if doc is not None:
        subscriptions.unsubscribe(str(doc["arn"]))


def send_channel_test(
    store: Store, config: Config, channel_id: str, now: float, publisher: Publisher | None = None
) -> dict[str, Any]:
    """A test notification through the channel's real delivery path (SNS for e-mail/SMS in AWS)."""
    from vigil.alerting.delivery import send_test

    return send_test(store, config, get_channel(store, channel_id), now, publisher=publisher)


# -- inbox -------------------------------------------------------------------------------------------
def list_notifications(
    store: Store, *, unread_only: bool = False, limit: int = 100, cursor: str | None = None
) -> dict[str, Any]:
    """A page of the inbox, newest first; `unread` counts the whole inbox."""
    items = [repo.clean(d) for d in store.list_docs(repo.INBOX_KIND)]
    unread = sum(1 for i in items if not i.get("read"))
    if unread_only:
        items = [i for i in items if not i.get("read")]
    items.sort(key=repo.newest_key, reverse=True)
    page, next_cursor = paginate(items, repo.newest_key, limit=limit, cursor=cursor, descending=True)
    return {"unread": unread, "items": page, "next_cursor": next_cursor}


def mark_read(store: Store, notification_id: str | None) -> dict[str, int]:
    """One notification, or all of them when `notification_id` is None."""
    docs = (
        store.list_docs(repo.INBOX_KIND)
        if notification_id is None
        else [d for d in [store.get_doc(repo.INBOX_KIND, notification_id)] if d is not None]
    )
    if notification_id is not None and not docs:
        raise NotFound(f"no notification with id {notification_id}", field="notification_id")
    changed = 0
    for doc in docs:
        if not doc.get("read"):
            store.put_doc(repo.INBOX_KIND, str(doc["id"]), {**repo.clean(doc), "read": True})
            changed += 1
    return {"marked": changed}
