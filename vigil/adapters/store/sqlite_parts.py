"""How `SqliteStore`'s parts are put together: the narrow interfaces one part offers another (typed
Protocols), so each part is an owned collaborator holding its own state rather than a mixin reaching
into the store's.

The store (`sqlite`) builds each part with what it uses: the file (`sqlite_db.Database`), the series
ids of committed rows (`SeriesIdCache`, met by `sqlite_series.SeriesIds`), the series lookup
(`SeriesLookup`, met by `sqlite_catalog.SeriesCatalog`), the packed head (`HeadReads`, met by
`sqlite_head.HeadPacks`) and the raw samples merged from blocks and head (`RawSamples`, met by
`sqlite_blocks.Blocks`). Must not import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from vigil.adapters.store.sqlite_head import Floats, Ints
from vigil.adapters.store.sqlite_series import Labels

SeriesRow = tuple[int, str, str, Labels]  # (id, host, metric, labels)


class SeriesIdCache(Protocol):
    """Series key -> id of committed `series` rows (a key missing here may still have a row)."""

    @property
    def ids(self) -> dict[str, int]: ...


class SeriesLookup(Protocol):
    """The series rows matching a query's filters."""

    def rows(
        self,
        metrics: Sequence[str] | None,
        hosts: Sequence[str] | None,
        labels: dict[str, str] | None,
        since: float | None = None,
    ) -> list[SeriesRow]: ...


class HeadReads(Protocol):
    """The packed head as readers see it (`sqlite_head.HeadPacks`)."""

    def columns(
        self, marks: str, ids: Sequence[Any], start: float, end: float
    ) -> tuple[Ints, Floats, Floats, Ints]: ...

    def newest(self, sid: int, since: float) -> tuple[float, float] | None: ...

    def newest_many(self, series: dict[int, str], since: float) -> dict[int, tuple[float, float]]: ...


class RawSamples(Protocol):
    """Plain raw samples as readers see them (`sqlite_blocks.Blocks`: blocks, merged with the head
    where it says so). `marks` are `?` placeholders for `ids`, or a subquery."""

    def block_samples(
        self, marks: str, ids: Sequence[Any], start: float, end: float
    ) -> tuple[Ints, Floats, Floats]: ...

    def raw_columns(
        self, marks: str, ids: Sequence[Any], start: float, end: float
    ) -> tuple[Ints, Floats, Floats] | None: ...

    def has_plain_stored(self, marks: str, ids: Sequence[Any], start: float, end: float) -> bool: ...

    def newest_in_blocks(self, sid: int, since: float, after: float) -> tuple[float, float] | None: ...
