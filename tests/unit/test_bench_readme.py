"""bench/README.md (`bench.run_all.write_readme`): each benchmark is one section dated with its run,
the sentences about the run as a short list, then one table of its figures with the goals first —
not a key/value dump where a missed goal hides among bookkeeping figures."""

from __future__ import annotations

from bench.run_all import bench_section, goal_rows

RESULT = {
    "ok": True,
    "measured_at": "2026-12-03T08:00:31+00:00",
    "figures": {
        "alerts_import_ms": 341.6,
        "alerts_cold_cpu_ms": 609.8,
        "python": "Debian CPython 3.14 (x86_64), layer built for manylinux2014_x86_64",
        "runs": 7,
        "answer": "exact (1,440 points)",
    },
}


def test_a_benchmark_is_one_dated_table_with_its_goals_first_and_its_conditions_above() -> None:
    lines, judged = bench_section("bench_coldstart", RESULT)
    assert lines[0] == "## bench_coldstart (2026-12-03 08:00 UTC)"
    assert "- python: Debian CPython 3.14 (x86_64), layer built for manylinux2014_x86_64" in lines
    table = [line for line in lines if line.startswith("|")]
    assert table[:2] == ["| figure | value | goal | met |", "|---|---|---|---|"]
    assert table[2] == "| alerts_cold_cpu_ms | 609.80 | ≤ 500 ms import + first invocation (CPU) | **no** |"
    assert [row.split(" | ")[0] for row in table[3:]] == ["| alerts_import_ms", "| runs", "| answer"]
    assert len([line for line in lines if line == "|---|---|---|---|"]) == 1  # one table
    assert judged == ["alerts_cold_cpu_ms | 609.80 | ≤ 500 ms import + first invocation (CPU) | **no** |"]


def test_a_failed_benchmark_says_so_under_its_date_and_judges_nothing() -> None:
    lines, judged = bench_section(
        "bench_x", {"ok": False, "error": "boom", "measured_at": "2026-12-03T09:00:00"}
    )
    assert lines == ["## bench_x (2026-12-03 09:00 UTC)", "", "**FAILED**: boom"]
    assert judged == []


def test_the_goals_summary_names_each_benchmark_with_the_date_of_its_run() -> None:
    lines, judged = bench_section("bench_coldstart", RESULT)
    assert goal_rows(lines, judged) == [
        "| bench_coldstart (2026-12-03 08:00 UTC) | alerts_cold_cpu_ms | 609.80"
        " | ≤ 500 ms import + first invocation (CPU) | **no** |"
    ]
