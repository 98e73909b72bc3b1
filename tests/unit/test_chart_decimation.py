"""The dashboard's min/max decimation (`frontend/src/decimate.js`, run in Node): for generated series
with gaps, on the whole range or zoomed in, it keeps the first, last, lowest and highest sample of every
run of values in every column, a missing value of every gap, and nothing else beyond the range's
neighbours. The columns are whole numbers of time units here, so the test's arithmetic is exact."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

DECIMATE_JS = Path(__file__).resolve().parents[2] / "frontend" / "src" / "decimate.js"
NODE = shutil.which("node") or "/usr/bin/node"
RUN = """
const { decimate } = await import(process.argv[1]);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString());
const out = cases.map(([data, columns, min, max]) => decimate(data, columns, min, max));
console.log(JSON.stringify(out));
"""


@dataclass
class Case:
    xs: list[int]
    ys: list[list[int | None]]
    columns: int
    zoom: tuple[int, int] | None  # [min, max], or None: the whole range
    width: int  # time units a column

    @property
    def lo(self) -> int:
        return self.zoom[0] if self.zoom else self.xs[0]

    def column(self, i: int) -> int:
        return (self.xs[i] - self.lo) // self.width


@st.composite
def cases(draw: st.DrawFn) -> Case:
    columns = draw(st.integers(1, 6))
    width = draw(st.integers(1, 20))
    span = columns * width
    inner = draw(st.sets(st.integers(1, span - 1), max_size=span - 1)) if span > 1 else set()
    xs = sorted({0, span, *inner})
    value = st.one_of(st.none(), st.integers(-50, 50)) if draw(st.booleans()) else st.integers(-50, 50)
    ys = [draw(st.lists(value, min_size=len(xs), max_size=len(xs))) for _ in range(draw(st.integers(1, 3)))]
    zoom = None
    if draw(st.booleans()) and span > 2:
        zoom_width = draw(st.integers(1, max(1, span // columns)))
        start = draw(st.integers(0, span - zoom_width * columns)) if zoom_width * columns <= span else 0
        zoom = (start, start + zoom_width * columns)
        width = zoom_width
    return Case(xs, ys, columns, zoom, width)


def decimated(batch: list[Case]) -> list[dict[str, list[object]] | None]:
    args = [[[c.xs, *c.ys], c.columns, *(c.zoom or (None, None))] for c in batch]
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", RUN, DECIMATE_JS.as_uri()],
        input=json.dumps(args),
        capture_output=True,
        text=True,
        check=True,
    )
    result: list[dict[str, list[object]] | None] = json.loads(out.stdout)
    return result


def check(case: Case, got: dict[str, list[object]] | None) -> None:
    n = len(case.xs)
    lo, hi = case.zoom or (case.xs[0], case.xs[-1])
    i0 = sum(1 for x in case.xs if x < lo)  # the range's points: xs[i0:i1]
    i1 = sum(1 for x in case.xs if x <= hi)
    if i0 == 0 and i1 == n and n <= 4 * case.columns:
        assert got is None  # nothing to gain: every point drawn
        return
    assert got is not None
    index = got["index"]
    assert index == sorted(set(index))  # type: ignore[type-var]
    kept = {int(i) for i in index}  # type: ignore[call-overload]
    for s, series in enumerate([case.xs, *case.ys]):
        assert got["data"][s] == [series[i] for i in sorted(kept)]  # type: ignore[index]
    assert kept - set(range(i0, i1)) <= {0, i0 - 1, i1, n - 1}
    bound = 4
    for ys in case.ys:
        runs = groupby(range(i0, i1), key=lambda i: (case.column(i), ys[i] is not None))
        for (_column, has_value), run in runs:
            positions = list(run)
            if not has_value:
                continue
            bound += 4
            assert {positions[0], positions[-1]} <= kept
            values = [ys[i] for i in positions]
            assert any(ys[i] == min(values) for i in positions if i in kept)  # type: ignore[type-var]
            assert any(ys[i] == max(values) for i in positions if i in kept)  # type: ignore[type-var]
        for is_gap, run in groupby(range(n), key=lambda i: ys[i] is None):
            gap = set(run)
            if is_gap and gap & set(range(i0, i1)):
                bound += 1
                assert gap & kept, f"the gap at {sorted(gap)} is not drawn"
    assert len(kept) <= bound


@settings(max_examples=25, deadline=None)
@given(st.lists(cases(), min_size=10, max_size=10))
def test_decimation_keeps_every_columns_extremes_ends_and_gaps(batch: list[Case]) -> None:
    for case, got in zip(batch, decimated(batch), strict=True):
        check(case, got)


def test_sixty_thousand_points_on_a_thousand_columns_keep_at_most_four_a_column() -> None:
    xs = list(range(60_000))
    ys = [float((i * 7919) % 1000) for i in xs]
    (got,) = decimated([Case(xs, [ys], 1000, None, 60)])
    assert got is not None and 1000 < len(got["index"]) <= 4 * 1001
    assert min(got["data"][1]) == min(ys) and max(got["data"][1]) == max(ys)  # type: ignore[type-var]
