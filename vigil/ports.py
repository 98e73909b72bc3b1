"""The ports: typed protocols the domain and API depend on, implemented by adapters at the edges.

`Store` is implemented by `adapters.store.sqlite.SqliteStore` (local mode, tests) and
`adapters.store.dynamodb.DynamoStore` (AWS). Both pass one contract suite (`tests/contract/`).
Optional capabilities only some stores have (SQL-side summaries, bulk loads) are in `vigil.capabilities`.
Must not import adapters, boto3 or sqlite3.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: importing the ports must not load pydantic (health's cold start)
    from vigil.domain.cumulative import CumulativeEntry
    from vigil.domain.records import (
        ApiKeyRecord,
        ErrorEvent,
        ErrorGroup,
        HostInfo,
        Point,
    )
    from vigil.domain.rollups import Rollup
    from vigil.domain.traces import Span, TraceSummary

# How far `Store.last_ingest` may lag: DynamoDB moves its item at most every 2 minutes per instance, so a
# one-host deployment (60 s batches) pays one extra write every other batch, not one per batch.
FRESHNESS_LAG_SECONDS = 120.0


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds."""
        ...


class SystemClock:
    def now(self) -> float:
        import time

        return time.time()


@runtime_checkable
class Store(Protocol):
    """Persistence for samples, keys, errors and JSON documents (rules, channels, dashboards, state).

    Documents are small JSON objects addressed by (`kind`, `id`); domain features own their kinds
    (`rule`, `silence`, `channel`, `dashboard`, `alert_state`, `notification`, ...). Timestamps are
    epoch seconds. Implementations must be safe to share between threads.
    """

    # -- samples ---------------------------------------------------------------------------------
    def put_samples(
        self,
        host: str,
        points: Sequence[Point],
        batch_id: str | None,
        now: float,
        timestamped: bool = True,
        *,
        push_interval: float | None = None,
    ) -> bool:
        """Store a validated batch atomically, as far as the backend allows.

        Duplicates follow `vigil.domain.batches`: a `batch_id` (the client's key) already stored for
        this host within `IDEMPOTENCY_SECONDS` of `now`, whatever the points' timestamps, or — without
        a key and when `timestamped` (every point carried a client-given ts) — identical content, is
        not stored again: returns False without writing samples. Returns True when the points were
        written. A crash halfway leaves neither the key without the samples nor the samples without
        the key.

        A stored batch is a push received at `now`: the host's record learns its reporting cadence
        from these (`vigil.domain.cadence`; `push_interval` is what the client declared, if anything)
        without a write of its own on the steady path, and `list_hosts` returns it.

        Raises:
            Unavailable: the backend refused after retries (the caller answers 503, the client retries).
        """
        ...

    def query_points(
        self,
        metric: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        """Raw points of `metric` with `start <= ts <= end`, optionally restricted to hosts and to
        points whose labels include every given pair. Points older than the retention (relative to
        `now`) are never returned, even if the backend has not deleted them yet. Order: unspecified."""
        ...

    def query_many(
        self,
        metrics: Sequence[str] | None,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        """Raw points of several metrics (None = every metric) with `start <= ts <= end`, read once per
        host (DynamoDB items hold all of a host's metrics): alert evaluation, the snapshot, rollups.
        Same retention rule as `query_points`. Order: unspecified."""
        ...

    # -- rollups (hourly "1h" and daily "1d", kept ROLLUP_RETENTION_SECONDS = 400 days) ----------
    def put_rollups(self, rollups: Sequence[Rollup], now: float) -> None:
        """Store recomputed rollups. For every (host, resolution, bucket start) present in `rollups`, the
        given records REPLACE whatever that host-bucket held (a recomputation is whole), so a repeated
        or overlapping run is idempotent. They expire 400 days after their bucket ends.

        Raises:
            Unavailable: the backend refused after retries.
        """
        ...

    def query_rollups(
        self,
        metric: str | None,
        resolution: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Rollup]:
        """Rollups of `metric` (None = every metric: the rollup job's daily pass) at `resolution` whose
        bucket start is in [start, end], filtered like `query_points`; buckets older than the rollup
        retention (relative to `now`) are never returned."""
        ...

    def latest_points(self, metrics: Sequence[str], since: float) -> list[Point]:
        """The newest point of every series of the given metrics seen at or after `since`."""
        ...

    def list_hosts(
        self, after: str | None = None, limit: int | None = None, only: Callable[[str], bool] | None = None
    ) -> list[HostInfo]:
        """Hosts sorted by name, each with its pushes' `cadence` (last receipt, recent gaps, declared
        interval); with `after`, only names sorting after it; at most `limit` (a page of
        `GET /api/hosts`); with `only`, only the names it accepts (a rollup shard's hosts). On DynamoDB
        the full listing (no `after`, `limit` or `only`) costs a Query per host and leaves a summary of
        every host's newest push; a page reads that summary (as old as the last full listing, at most
        90 s) with one Query, or its own hosts when it is older; `only` reads the newest push of the
        hosts it accepts, one Query each, and leaves no summary."""
        ...

    def list_metrics(self) -> dict[str, list[str]]:
        """Metric names seen → the label keys seen with each."""
        ...

    def series_count(self, host: str) -> int:
        """Distinct series stored for a host (cardinality guard)."""
        ...

    def known_series(self, host: str, wanted: Collection[str] = ()) -> set[str]:
        """Series keys (`models.series_key`) already stored for a host. A cache may answer when it holds
        every key of `wanted` (the batch's series: stored series are never forgotten, so nothing
        another writer added can change what the caller decides about them)."""
        ...

    def purge_expired(self, now: float) -> int:
        """Delete raw samples older than the retention and rollups older than 400 days; returns how
        many raw samples were removed."""
        ...

    # -- fleet tier (docs/data-model.md "Fleet tier"; built by `services.fleet.run_fleet`) ---------
    def put_fleet(self, rollups: Sequence[Rollup], now: float) -> None:
        """Store fleet records (`domain.fleet`, host `*`, resolution "1m" or "1h"). For every
        (resolution, bucket start) present, they REPLACE what that bucket held (the job recomputes a
        bucket whole). Minute buckets are kept for the raw retention, hours 400 days.

        Raises:
            Unavailable: the backend refused after retries.
        """
        ...

    def query_fleet(
        self,
        metric: str | None,
        resolution: str,
        start: float,
        end: float,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Rollup]:
        """Fleet records of `metric` (None: every metric) at `resolution` with bucket start in
        [start, end] whose labels include every given pair; a constant number of reads whatever the
        host count."""
        ...

    def record_latest(self, points: Sequence[Point], now: float) -> None:
        """Note the newest point of each (host, series) in `points` for `latest_by_host` (the fleet job
        calls it with what it read; a no-op where the backend answers from samples directly)."""
        ...

    def latest_by_host(
        self, metric: str, since: float, labels: dict[str, str] | None = None
    ) -> dict[str, float]:
        """host → the mean of the newest value of each of its series of `metric` (whose labels include
        `labels`) with a sample at or after `since` (histograms: their mean observation). "Top N hosts
        by X" without one read per host; on DynamoDB as fresh as the fleet job's last run."""
        ...

    def last_ingest(self) -> float | None:
        """When the newest batch was received (None: never), from one read whatever the fleet size; may
        lag the newest batch by up to `FRESHNESS_LAG_SECONDS`."""
        ...

    # -- keys and tokens -------------------------------------------------------------------------
    def put_key(self, record: ApiKeyRecord) -> None: ...

    def find_key(self, secret_hash: str) -> ApiKeyRecord | None:
        """The key whose hash matches, revoked or not (the caller checks `revoked`)."""
        ...

    def list_keys(self) -> list[ApiKeyRecord]: ...

    def revoke_key(self, key_id: str) -> ApiKeyRecord:
        """Raises:
        NotFound: no key with that id."""
        ...

    def touch_key(self, key_id: str, at: float) -> None:
        """Record that the key was used at `at` (epoch s): `last_used_at` as `list_keys` returns it
        becomes `at` unless it is already later. A key that no longer exists is left alone. Callers
        write this at most once a minute per key (`Authenticator`), never per request."""
        ...

    # -- application errors ----------------------------------------------------------------------
    def record_errors(self, events: Sequence[ErrorEvent]) -> None:
        """Fold the events into their groups: counts, first/last seen, and the occurrences per clock
        hour, keeping only the 24 hours up to each group's newest (`vigil.domain.occurrences`)."""
        ...

    def list_error_groups(self, since: float, limit: int = 100) -> list[ErrorGroup]:
        """Groups with `last_seen >= since`, newest first, each with its kept hours (`hourly`)."""
        ...

    # -- documents -------------------------------------------------------------------------------
    def put_doc(
        self, kind: str, doc_id: str, doc: dict[str, Any], *, expected_version: int | None = None
    ) -> dict[str, Any]:
        """Insert or replace. With `expected_version`, replace only if the stored `_version` equals it
        (0 = must not exist). Returns the stored doc including its new `_version`.

        Raises:
            Conflict: `expected_version` did not match.
        """
        ...

    def get_doc(self, kind: str, doc_id: str) -> dict[str, Any] | None: ...

    def list_docs(self, kind: str) -> list[dict[str, Any]]: ...

    def delete_doc(self, kind: str, doc_id: str) -> bool:
        """True when something was deleted."""
        ...

    # -- health ----------------------------------------------------------------------------------
    def ping(self) -> None:
        """Cheap round trip to the backend.

        Raises:
            Unavailable: the backend does not answer.
            StorageFull: it answers but a write could not land now (SQLite: the data disk is full).
        """
        ...

    def close(self) -> None: ...


def labels_tuple(labels: dict[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = labels.items() if isinstance(labels, dict) else labels
    return tuple(sorted(items))


# -- OTLP: traces and cumulative-to-delta state (appended by the OTLP work, issue 7) ---------------


@runtime_checkable
class TraceStore(Protocol):
    """Spans with a TTL (7 days) and a per-trace summary for listing.

    Implemented by `adapters.store.sqlite_traces.SqliteTraceStore` and
    `adapters.store.dynamodb_traces.DynamoTraceStore`; one contract suite
    (`tests/contract/test_trace_store.py`). A span stored twice (exporter retry) is stored once.
    """

    def put_spans(self, spans: Sequence[Span], now: float) -> None:
        """Store spans (any traces, any order); they expire `TRACE_TTL_SECONDS` after `now`.

        Raises:
            Unavailable: the backend refused after retries.
        """
        ...

    def list_traces(
        self,
        service: str | None = None,
        route: str | None = None,
        status: str | None = None,
        min_duration_ms: float | None = None,
        start: float | None = None,
        end: float | None = None,
        limit: int = 50,
        now: float | None = None,
    ) -> list[TraceSummary]:
        """Summaries matching every given filter (`status`: `error` | `ok`; `start`/`end` bound the
        trace's start), newest first, at most `limit`. Expired traces (relative to `now`) never show."""
        ...

    def get_trace(self, trace_id: str, now: float | None = None) -> list[Span]:
        """All stored spans of a trace ordered by start; [] when unknown or expired."""
        ...

    def purge_expired(self, now: float) -> int:
        """Delete expired spans where the backend has no TTL of its own; returns how many."""
        ...


class FieldSealer(Protocol):
    """Encrypts secret document fields at rest (AWS: `adapters.secrets.kms.KmsSealer`). `context`
    names what the value belongs to; a value sealed for one context must not open for another."""

    def seal(self, plaintext: str, context: str) -> str: ...

    def open(self, sealed: str, context: str) -> str:
        """Raises:
        ValueError: `sealed` is not a sealed value."""
        ...


class CumulativeState(Protocol):
    """Where OTLP cumulative-to-delta conversion keeps the last value of each series.

    `tracking_since` (epoch seconds) is when this state began: a series first seen with a start time
    before it has been running while nobody tracked it, so its first value is kept only as the baseline
    (no delta is emitted). In-memory (`adapters.otlp.state.MemoryCumulativeState`) in local mode and
    warm Lambdas; a cold start loses at most one interval per series.
    """

    @property
    def tracking_since(self) -> float: ...

    def get(self, key: str) -> CumulativeEntry | None: ...

    def put(self, key: str, entry: CumulativeEntry) -> None: ...


class ChangeFeed(Protocol):
    """Where "what changed" goes after a successful write, for pushed dashboard updates: local mode's
    stream hub (`vigil.local.live.LiveHub`); nothing elsewhere (`NoChanges`). Never raises into the
    write path: a lost notice only delays a dashboard until its next poll."""

    def samples_stored(self, host: str, metrics: Collection[str]) -> None: ...

    def alerts_changed(self) -> None: ...


class NoChanges:
    """The feed nobody listens to."""

    def samples_stored(self, host: str, metrics: Collection[str]) -> None:
        return None

    def alerts_changed(self) -> None:
        return None
