"""Synthetic checks as documents: create, list (with each check's latest results), read, replace,
delete. Definitions are `check` documents; results are one `check_state` document per check, written by
the runner (`vigil.services.check_runner`). Names are unique: they label the check's samples.

Imports: `vigil.domain`, `vigil.ports`, `vigil.config`.
"""

from __future__ import annotations

import secrets
from typing import Any

from vigil.config import Config
from vigil.domain.check_runs import CHECK_KIND, CHECK_STATE_KIND
from vigil.domain.checks import REDACTED, SECRET_HEADERS, Check, CheckIn, uptime_since
from vigil.domain.errors import Conflict, NotFound
from vigil.domain.timeparse import iso
from vigil.ports import Store

KIND = CHECK_KIND
STATE_KIND = CHECK_STATE_KIND


def stored_definition(doc: dict[str, Any]) -> CheckIn:
    """The definition inside a stored `check` document (secret headers in clear: the runner's view)."""
    return CheckIn.model_validate({k: doc[k] for k in CheckIn.model_fields if k in doc})


def _out(doc: dict[str, Any], state: dict[str, Any] | None, now: float) -> Check:
    """The API's view: secret-looking header values are never shown, not even to admins."""
    st = state or {}
    headers = {k: REDACTED if k.lower() in SECRET_HEADERS else v for k, v in doc.get("headers", {}).items()}
    last = st.get("last_checked_at")
    return Check.model_validate(
        {
            **{k: v for k, v in doc.items() if k != "_version"},
            "headers": headers,
            "version": doc["_version"],
            "status": st.get("status", "pending"),
            "last_checked_at": iso(float(last)) if last is not None else None,
            "last_duration_ms": st.get("last_duration_ms"),
            "uptime_24h": uptime_since(st, now),
            "last_error": st.get("last_error"),
            "tls_days_left": st.get("tls_days_left"),
            "last_status_code": st.get("status_code"),
            "last_phases_ms": st.get("phases_ms"),
        }
    )


def _unique_name(store: Store, name: str, own_id: str | None = None) -> None:
    for doc in store.list_docs(KIND):
        if doc.get("name") == name and doc.get("id") != own_id:
            raise Conflict(f"a check named {name!r} exists already", field="name")


def create(store: Store, config: Config, body: CheckIn, now: float) -> Check:
    """Raises:
    Invalid: interval/timeout outside what this deployment runs, or TCP with HTTP-only fields.
    Conflict: the name is taken."""
    body.checked(config.min_check_interval)
    _unique_name(store, body.name)
    check_id = f"ck_{secrets.token_hex(5)}"
    doc = {"id": check_id, **body.model_dump(), "created_at": iso(now), "updated_at": iso(now)}
    out = _out(store.put_doc(KIND, check_id, doc, expected_version=0), None, now)
    _page_changes(store, doc)
    return out


def list_checks(store: Store, now: float) -> list[Check]:
    """Every check with its latest results, by name (case-insensitive)."""
    states = {d["id"]: d for d in store.list_docs(STATE_KIND) if "id" in d}
    out = [_out(doc, states.get(doc["id"]), now) for doc in store.list_docs(KIND)]
    return sorted(out, key=lambda c: (c.name.lower(), c.id))


def get_doc(store: Store, check_id: str) -> dict[str, Any]:
    """Raises:
    NotFound: no check with that id."""
    doc = store.get_doc(KIND, check_id)
    if doc is None:
        raise NotFound(f"no check with id {check_id!r}", field="check_id")
    return doc


def get(store: Store, check_id: str, now: float) -> Check:
    """Raises:
    NotFound: no check with that id."""
    return _out(get_doc(store, check_id), store.get_doc(STATE_KIND, check_id), now)


def replace(store: Store, config: Config, check_id: str, body: CheckIn, now: float) -> Check:
    """A header sent back as the redacted placeholder keeps its stored value (the edit form never sees
    the secret).

    Raises:
        NotFound: no check with that id.
        Invalid: as for `create`.
        Conflict: the name is taken, or the check changed since it was read.
    """
    current = get_doc(store, check_id)
    kept = current.get("headers", {})
    headers = {k: kept.get(k, v) if v == REDACTED else v for k, v in body.headers.items()}
    body = body.model_copy(update={"headers": headers}).checked(config.min_check_interval)
    _unique_name(store, body.name, own_id=check_id)
    doc = {"id": check_id, **body.model_dump(), "created_at": current["created_at"], "updated_at": iso(now)}
    stored = store.put_doc(KIND, check_id, doc, expected_version=int(current["_version"]))
    _page_changes(store, current, doc)
    return _out(stored, store.get_doc(STATE_KIND, check_id), now)


def delete(store: Store, check_id: str) -> dict[str, Any]:
    """Removes the check and its results; returns the deleted definition (the runner's caller writes
    the closing samples that resolve its alerts).

    Raises:
        NotFound: no check with that id."""
    doc = get_doc(store, check_id)
    store.delete_doc(KIND, check_id)
    store.delete_doc(STATE_KIND, check_id)
    _page_changes(store, doc)
    return doc


def _page_changes(store: Store, *docs: dict[str, Any]) -> None:
    """A public check came, went or changed: the published status page is stale."""
    if any(d.get("public") is True for d in docs):
        from vigil.services.status_page import mark_stale

        mark_stale(store)
