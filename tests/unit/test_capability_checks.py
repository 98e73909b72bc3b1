"""`capabilities.offers`: the optional-capability check ingest makes on every request answers as
`isinstance` does and looks a store class' members up once, not on every call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vigil.capabilities import DocBatchStore, SeriesBatchStore, offers


class Lacking:
    """Has no optional method; counts every member lookup that found nothing (what a Protocol check
    costs: a `hasattr` per member)."""

    lookups = 0

    def __getattr__(self, name: str) -> Any:
        type(self).lookups += 1
        raise AttributeError(name)


class Batching:
    def put_docs(self, docs: Sequence[Any]) -> None: ...


def test_offers_answers_as_isinstance_for_stores_with_and_without_the_capability() -> None:
    for store in (Lacking(), Batching()):
        for capability in (DocBatchStore, SeriesBatchStore):
            assert offers(store, capability) == isinstance(store, capability)


def test_a_store_class_is_checked_once_however_many_calls_ask() -> None:
    first, second = Lacking(), Lacking()
    assert not offers(first, DocBatchStore)
    after_first = Lacking.lookups
    assert after_first >= 1  # the Protocol check did look
    for store in (first, second, first):
        assert not offers(store, DocBatchStore)
    assert Lacking.lookups == after_first
