"""Web Push for alerts: the VAPID key pair (created on first use), browser subscriptions, and the
fan-out of each notification to the subscriptions that want it.

Keys: local mode keeps the private key as PEM in the data dir (`vapid-private.pem`, 0600, like the
admin token); with the DynamoDB store it is a `push_vapid` document whose private half the store seals
with the stack's KMS key (`SECRET_DOC_FIELDS`), created once with a conditional write so two cold
Lambdas cannot make two pairs. Either way the keys are read once per process. The private key is
never logged or returned; `GET /api/push/vapid-public-key` answers the public half only.

Imports: standard library, `vigil.domain`, `vigil.ports`, `vigil.config`, `vigil.adapters`
(`webpush`, the SSRF guard, private files).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from vigil.adapters.notify.base import Notifier, NotifyContext
from vigil.adapters.notify.ssrf import policy_for, resolve_target
from vigil.adapters.notify.webpush import VapidKeys, WebPushNotifier, generate_vapid_keys, public_key_of
from vigil.adapters.private_files import private_dir, read_private, write_private
from vigil.config import Config
from vigil.domain.alerts import Notification
from vigil.domain.errors import Conflict, DeliveryError, Invalid, NotFound
from vigil.domain.push import SUBSCRIPTION_KIND, VAPID_KIND, parse_subscription, public_view, wants
from vigil.ports import Store

log = logging.getLogger(__name__)

VAPID_FILE = "vapid-private.pem"
VAPID_DOC_ID = "vapid"
_keys: dict[str, VapidKeys] = {}
_keys_lock = threading.Lock()


def vapid_keys(store: Store, config: Config) -> VapidKeys:
    """This deployment's VAPID key pair, created on first use (see the module docstring)."""
    where = str(config.data_dir / VAPID_FILE) if config.store == "sqlite" else config.meta_table_name
    with _keys_lock:
        if where not in _keys:
            _keys[where] = _load_file(config) if config.store == "sqlite" else _load_doc(store)
        return _keys[where]


def _load_file(config: Config) -> VapidKeys:
    path = config.data_dir / VAPID_FILE
    private_dir(config.data_dir)
    if not path.exists():
        keys = generate_vapid_keys()
        draft = path.with_name(f".{VAPID_FILE}.{os.getpid()}.{threading.get_ident()}")
        write_private(draft, keys.private_pem)
        try:  # a link appears whole or not at all; a process that loses the race reads the winner's
            os.link(draft, path)
            log.info("created the Web Push (VAPID) key pair in %s", config.data_dir)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    pem = read_private(path)
    return VapidKeys(pem, public_key_of(pem))


def _load_doc(store: Store) -> VapidKeys:
    doc = store.get_doc(VAPID_KIND, VAPID_DOC_ID)
    if doc is None:
        keys = generate_vapid_keys()
        body = {"id": VAPID_DOC_ID, "public_key": keys.public_key, "private_key": keys.private_pem}
        try:
            store.put_doc(VAPID_KIND, VAPID_DOC_ID, body, expected_version=0)
            log.info("created the Web Push (VAPID) key pair")
            return keys
        except Conflict:  # another process created it first: use theirs
            doc = store.get_doc(VAPID_KIND, VAPID_DOC_ID)
    if doc is None:
        raise RuntimeError("the VAPID key document vanished while it was being created")
    return VapidKeys(str(doc["private_key"]), str(doc["public_key"]))


def push_subject(config: Config) -> str:
    """The VAPID `sub` claim: how a push service operator can reach us (RFC 8292 §2.1)."""
    if config.vapid_subject:
        return config.vapid_subject
    url = config.links_url.rstrip("/")
    return url if url.startswith("https://") and url.count(":") == 1 else "mailto:vigil@localhost"


def subscribe(store: Store, config: Config, data: Any, now: float) -> dict[str, Any]:
    """Store (or replace: same endpoint, same id) a browser's subscription; returns its public view.

    Raises:
        Invalid: a malformed subscription, or an endpoint the SSRF guard refuses (field `endpoint`).
    """
    doc = parse_subscription(data, now)
    vapid_keys(store, config)  # the pair exists before any push is due: the notify path only reads it
    try:
        resolve_target(doc["endpoint"], policy_for(config))
    except DeliveryError as exc:
        if not exc.retryable:  # a DNS hiccup is not the caller's mistake: checked again at send time
            raise Invalid(f"endpoint: {exc.message}", field="endpoint") from None
    store.put_doc(SUBSCRIPTION_KIND, doc["id"], doc)
    return public_view(doc)


def unsubscribe(store: Store, subscription_id: str) -> None:
    """Raises:
    NotFound: no such subscription (already removed, e.g. after its push service answered 410)."""
    if not store.delete_doc(SUBSCRIPTION_KIND, subscription_id):
        raise NotFound(f"no push subscription {subscription_id}", field="subscription_id")


def targets(store: Store, config: Config, n: Notification, ctx: NotifyContext) -> list[tuple[str, Notifier]]:
    """(delivery id `push:<subscription id>`, notifier) for each subscription that wants `n`; the
    keys are not read (nor cryptography imported) when none does."""
    subs = [d for d in store.list_docs(SUBSCRIPTION_KIND) if wants(d, n)]
    if not subs:
        return []
    keys = vapid_keys(store, config)
    subject = push_subject(config)
    return [(f"push:{d['id']}", WebPushNotifier(d, keys, subject, ctx)) for d in subs]
