"""The dashboard formats numbers and clock times without Intl (the first Intl object of a page loads
ICU's locale data: tens of milliseconds of a cold load), so its own formatting must give exactly the
text Intl gives. `frontend/src/format.js` runs in Node against Node's Intl (full ICU)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

FORMAT_JS = Path(__file__).resolve().parents[2] / "frontend" / "src" / "format.js"
NODE = shutil.which("node") or "/usr/bin/node"

COMPARE_NUMBERS = """
const { number } = await import(process.argv[1]);
const cases = JSON.parse(process.argv[2]);
const wrong = [];
for (const [n, min, max] of cases) {
  const value = n === "-0" ? -0 : n;
  const intl = value.toLocaleString("en-US", { minimumFractionDigits: min, maximumFractionDigits: max });
  const ours = number(value, min, max);
  if (ours !== intl) wrong.push({ n, min, max, ours, intl });
}
console.log(JSON.stringify(wrong));
"""

COMPARE_TIMES = """
const { fmtClock, fmtTime } = await import(process.argv[1]);
const wrong = [];
const clock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });
const clockS = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const date = new Intl.DateTimeFormat("en-CA");
for (const t of JSON.parse(process.argv[2])) {
  const d = new Date(t * 1000);
  const expected = [clock.format(d), clockS.format(d), `${date.format(d)} ${clockS.format(d)}`];
  const ours = [fmtClock(t), fmtTime(t, false), fmtTime(t)];
  if (JSON.stringify(ours) !== JSON.stringify(expected)) wrong.push({ t, ours, expected });
}
console.log(JSON.stringify(wrong));
"""


def run_node(script: str, cases: list[object], tz: str = "UTC") -> list[dict[str, object]]:
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script, FORMAT_JS.as_uri(), json.dumps(cases)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TZ": tz},
    )
    return json.loads(out.stdout)


digits = st.integers(min_value=0, max_value=4)
values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e24, max_value=1e24),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-10, max_value=10),
    st.integers(min_value=-(10**12), max_value=10**12).map(lambda i: i / 1000),  # decimal ties: 0.125, 2.5
)
number_cases = st.lists(
    st.tuples(values, digits, digits).map(lambda c: (c[0], min(c[1], c[2]), max(c[1], c[2]))),
    min_size=1,
    max_size=300,
)


@settings(max_examples=15, deadline=None)
@given(number_cases)
def test_numbers_read_as_intl_en_us_writes_them(cases: list[tuple[float, int, int]]) -> None:
    assert run_node(COMPARE_NUMBERS, cases) == []


def test_numbers_at_the_edges_read_as_intl_writes_them() -> None:
    edges = [0.0, "-0", -0.0001, 0.5, 1.5, 2.5, -2.5, 0.125, 1.005, 999.9999, 1e21, -3e22, 1e-7]
    edges.append(123456789.987654321)
    cases = [[n, lo, hi] for n in edges for lo, hi in ((0, 0), (0, 1), (0, 2), (2, 2), (0, 3), (1, 4))]
    assert run_node(COMPARE_NUMBERS, cases) == []


@settings(max_examples=10, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=4_102_444_800), min_size=1, max_size=200),
    st.sampled_from(["UTC", "Europe/London", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham"]),
)
def test_clock_times_and_dates_read_as_intl_writes_them(times: list[int], tz: str) -> None:
    assert run_node(COMPARE_TIMES, times, tz) == []
