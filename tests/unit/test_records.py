"""`records.new_point`, ingest's quick way to build a `Point`, makes exactly what `Point(...)` makes —
and stops being allowed the moment `Point` changes in a way it would skip."""

from __future__ import annotations

import dataclasses

import pytest

from vigil.domain.records import _POINT_FIELDS, Histogram, Point, new_point


def test_new_point_is_the_point_the_constructor_makes() -> None:
    hist = Histogram((1.0,), (2, 3), 9.0, 5)
    for args in (("h", "m", (("a", "1"),), 1.5, 2.0, None), ("h", "m", (), 3.0, None, hist)):
        quick, made = new_point(*args), Point(*args)
        assert quick == made and hash(quick) == hash(made) and repr(quick) == repr(made)
        assert quick.series_key == made.series_key


def test_a_new_point_is_still_frozen() -> None:
    point = new_point("h", "m", (), 1.0, 2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.value = 3.0  # type: ignore[misc]


def test_new_point_sets_every_field_point_has_and_point_runs_nothing_after_init() -> None:
    assert tuple(f.name for f in dataclasses.fields(Point)) == _POINT_FIELDS
    assert not hasattr(Point, "__post_init__")
