"""Custom dashboards, stored as `dashboard` documents: create, list, read, replace, delete."""

from __future__ import annotations

import secrets
from typing import Any

from vigil.domain.dashboards import Dashboard, DashboardIn
from vigil.domain.errors import NotFound
from vigil.domain.paging import paginate
from vigil.domain.timeparse import iso
from vigil.ports import Store

KIND = "dashboard"


def _out(doc: dict[str, Any]) -> Dashboard:
    return Dashboard.model_validate(
        {**{k: v for k, v in doc.items() if k != "_version"}, "version": doc["_version"]}
    )


def create(store: Store, body: DashboardIn, now: float) -> Dashboard:
    dashboard_id = f"db_{secrets.token_hex(5)}"
    doc = {
        "id": dashboard_id,
        **body.model_dump(by_alias=True, exclude_none=True),
        "created_at": iso(now),
        "updated_at": iso(now),
    }
    return _out(store.put_doc(KIND, dashboard_id, doc, expected_version=0))


def list_page(store: Store, *, limit: int, cursor: str | None = None) -> tuple[list[Dashboard], str | None]:
    """A page of dashboards by name (case-insensitive; ties by id), and the next page's cursor."""
    items = sorted((_out(d) for d in store.list_docs(KIND)), key=lambda d: (d.name.lower(), d.id))
    return paginate(items, lambda d: [d.name.lower(), d.id], limit=limit, cursor=cursor)


def get(store: Store, dashboard_id: str) -> Dashboard:
    """Raises:
    NotFound: no dashboard with that id."""
    doc = store.get_doc(KIND, dashboard_id)
    if doc is None:
        raise NotFound(f"no dashboard with id {dashboard_id!r}", field="dashboard_id")
    return _out(doc)


def replace(store: Store, dashboard_id: str, body: DashboardIn, now: float) -> Dashboard:
    """Raises:
    NotFound: no dashboard with that id.
    Conflict: it changed since it was read (lost-update guard on the stored version)."""
    current = get(store, dashboard_id)
    doc = {
        "id": dashboard_id,
        **body.model_dump(by_alias=True, exclude_none=True),
        "created_at": current.created_at,
        "updated_at": iso(now),
    }
    return _out(store.put_doc(KIND, dashboard_id, doc, expected_version=current.version))


def delete(store: Store, dashboard_id: str) -> None:
    """Raises:
    NotFound: no dashboard with that id."""
    if not store.delete_doc(KIND, dashboard_id):
        raise NotFound(f"no dashboard with id {dashboard_id!r}", field="dashboard_id")
