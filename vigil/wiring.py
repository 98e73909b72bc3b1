"""Builds the adapters for one process from its `Config` — once, lazily (STYLE: no clients at import
time, no clients as default arguments). Lambda cold starts call `app_context()` on first use and warm
invocations reuse it; the local server builds one for its data dir and binds it per request.

This is the only module that chooses between SQLite and DynamoDB.
"""

from __future__ import annotations

import contextlib
import contextvars
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from vigil.config import Config
from vigil.ports import Clock, Store, SystemClock

if TYPE_CHECKING:
    from vigil.api.auth import Authenticator


@dataclass
class AppContext:
    config: Config
    clock: Clock = field(default_factory=SystemClock)
    _store: Store | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def store(self) -> Store:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = build_store(self.config)
        return self._store

    @cached_property
    def auth(self) -> Authenticator:
        from vigil.api.auth import Authenticator

        return Authenticator(self.store, mode=self.config.auth_mode, admin_token=self.config.admin_token)


def build_store(config: Config) -> Store:
    if config.store == "dynamodb":
        from vigil.adapters.store.dynamodb import DynamoStore

        return DynamoStore(config.samples_table_name, config.meta_table_name, config.retention_seconds)
    from vigil.adapters.store.sqlite import SqliteStore

    return SqliteStore(config.sqlite_path, config.retention_seconds)


def ensure_admin_token(config: Config) -> Config:
    """Local mode: `VIGIL_ADMIN_TOKEN` when set, else the token kept in the data dir (created once,
    mode 0600)."""
    if config.admin_token:
        return config
    path = config.data_dir / "admin-token"
    config.data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        token = f"va_{secrets.token_urlsafe(32)}"
        path.touch(mode=0o600)
        path.write_text(token + "\n")
    return config.with_(admin_token=path.read_text().strip())


_bound: contextvars.ContextVar[AppContext | None] = contextvars.ContextVar("vigil_app_context", default=None)
_process_context: AppContext | None = None
_process_lock = threading.Lock()


def app_context() -> AppContext:
    """The context bound to this request (local server, tests) or else the process-wide one built
    from the environment (Lambda)."""
    bound = _bound.get()
    if bound is not None:
        return bound
    global _process_context
    if _process_context is None:
        with _process_lock:
            if _process_context is None:
                _process_context = AppContext(Config.from_env())
    return _process_context


@contextlib.contextmanager
def bind(ctx: AppContext) -> Iterator[AppContext]:
    token = _bound.set(ctx)
    try:
        yield ctx
    finally:
        _bound.reset(token)
