"""`records.new_point`, ingest's quick way to build a `Point`, makes exactly what `Point(...)` makes —
and stops being allowed the moment `Point` changes in a way it would skip; `distinct_series_keys`
gives the keys the points themselves give."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.domain.records import _POINT_FIELDS, Histogram, Point, distinct_series_keys, new_point

_names = st.sampled_from(["h1", "h2", "cpu", "mem.used", "a|b", "x=y,z"])
_labels = st.lists(st.tuples(_names, _names), max_size=3).map(
    lambda pairs: tuple(sorted(dict(pairs).items()))
)
_points = st.lists(
    st.builds(Point, _names, _names, _labels, st.floats(0, 2e9), st.none() | st.floats(-1e9, 1e9)),
    max_size=40,
)


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


@given(_points)
def test_distinct_series_keys_are_the_keys_of_the_points_each_once(points: list[Point]) -> None:
    assert distinct_series_keys(points) == {p.series_key for p in points}
