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
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.adapters.private_files import private_dir, read_private, write_private
from vigil.config import Config
from vigil.ports import ChangeFeed, Clock, CumulativeState, NoChanges, Store, SystemClock, TraceStore

if TYPE_CHECKING:
    from vigil.api.auth import Authenticator


@dataclass
class AppContext:
    config: Config
    clock: Clock = field(default_factory=SystemClock)
    _store: Store | None = None
    _trace_store: TraceStore | None = None
    _otlp_state: CumulativeState | None = None
    changes: ChangeFeed = field(default_factory=NoChanges)  # what pushed dashboard updates are told
    _lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.started = self.clock.now()

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

        return Authenticator(
            self.store, mode=self.config.auth_mode, admin_token=self.config.admin_token, clock=self.clock
        )

    @property
    def trace_store(self) -> TraceStore:
        if self._trace_store is None:
            store = self.store  # outside the lock: `store` takes it too
            with self._lock:
                if self._trace_store is None:
                    self._trace_store = build_trace_store(self.config, store)
        return self._trace_store

    @property
    def otlp_state(self) -> CumulativeState:
        """OTLP cumulative-to-delta state, one per process (`adapters.otlp.state` has the AWS caveat),
        tracking since the process started (an app started after that was watched from its start, so
        its first cumulative export counts); locked so two first requests cannot each start a state."""
        if self._otlp_state is None:
            with self._lock:
                if self._otlp_state is None:
                    from vigil.adapters.otlp.state import MemoryCumulativeState

                    self._otlp_state = MemoryCumulativeState(tracking_since=self.started)
        return self._otlp_state


def build_change_feed(ctx: AppContext) -> ChangeFeed:
    """AWS: AppSync Events when the stack names its endpoint, publishing while a dashboard watches;
    else nobody listens (local mode's server installs its own stream hub on its context)."""
    if ctx.config.live_events_url:
        from vigil.adapters.live_events import AppSyncEventsFeed
        from vigil.services.live_presence import Presence

        presence = Presence(lambda: ctx.store, ctx.clock.now)
        return AppSyncEventsFeed(ctx.config.live_events_url, watched=presence.watched)
    return NoChanges()


def build_store(config: Config) -> Store:
    if config.store == "dynamodb":
        from vigil.adapters.secrets.kms import KmsSealer
        from vigil.adapters.store.dynamodb import DynamoStore

        sealer = KmsSealer(config.channel_key_arn) if config.channel_key_arn else None
        return DynamoStore(
            config.samples_table_name,
            config.meta_table_name,
            config.retention_seconds,
            doc_ttl=config.record_retention,
            sealer=sealer,
        )
    from vigil.adapters.store.sqlite import SqliteStore

    return SqliteStore(config.sqlite_path, config.retention_seconds)


def build_trace_store(config: Config, store: Store) -> TraceStore:
    """Traces live beside the samples: the same SQLite file, or the samples table with the sample
    store's DynamoDB client (one connection pool per process)."""
    if config.store == "dynamodb":
        from vigil.adapters.store.dynamodb_traces import DynamoTraceStore

        io = getattr(store, "io", None)
        return DynamoTraceStore(config.samples_table_name, client=io.client if io is not None else None)
    from vigil.adapters.store.sqlite_traces import SqliteTraceStore

    return SqliteTraceStore(config.sqlite_path)


def ensure_admin_token(config: Config) -> Config:
    """Local mode: `VIGIL_ADMIN_TOKEN` when set, else the token kept in the data dir (created once,
    mode 0600)."""
    if config.admin_token:
        return config
    path = admin_token_path(config)
    private_dir(config.data_dir)
    if not path.exists():
        write_private(path, f"va_{secrets.token_urlsafe(32)}\n")
    return config.with_(admin_token=read_private(path).strip())


def admin_token_path(config: Config) -> Path:
    """Where local mode keeps a generated admin token (unused when `VIGIL_ADMIN_TOKEN` is set)."""
    return config.data_dir / "admin-token"


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
                _process_context.changes = build_change_feed(_process_context)
    return _process_context


@contextlib.contextmanager
def bind(ctx: AppContext) -> Iterator[AppContext]:
    token = _bound.set(ctx)
    try:
        yield ctx
    finally:
        _bound.reset(token)
