"""`make bench`: run every `bench/bench_*.py` exposing `run() -> dict`, keep each raw result in
`bench/results/<name>.json`, and write `bench/README.md` (date, machine, versions, the goals the
issues set with whether the latest figures meet them (`bench/goals.py`), then one dated table per
benchmark). A module that fails is reported in its section, not hidden."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import os
import platform
import sqlite3
import sys
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.goals import judge

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
LIBS = ("aws-lambda-powertools", "boto3", "moto", "pydantic", "orjson", "waitress")


def machine() -> dict[str, str]:
    cpu = "unknown"
    ram = "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    versions = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for lib in LIBS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[lib] = metadata.version(lib)
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "ram": ram, **versions}


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    only = set(sys.argv[1:])
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem
        if only and name not in only:
            continue
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            if not callable(getattr(module, "run", None)):
                print(f"   {name} has no run(): skipped (run it directly)", flush=True)
                continue
            result = {"ok": True, "figures": module.run()}
        except Exception as exc:  # a broken bench is reported, the others still run
            traceback.print_exc()
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        result["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        print(json.dumps(result, indent=2), flush=True)
    write_readme()


def shown(value: object) -> str:
    if isinstance(value, float):  # small figures (US$ per host-month) keep 4 significant digits
        return f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value).replace("|", "\\|")


def bench_section(bench: str, data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """One benchmark's section — its heading dated with the run, the conditions it ran under (the
    figures that are prose: method, machine, dataset, versions), then ONE table of its figures with
    the goals first — and the rows of its judged figures for the summary at the top."""
    when = data.get("measured_at", "")[:16].replace("T", " ")
    lines = [f"## {bench} ({when} UTC)" if when else f"## {bench}"]
    if not data.get("ok"):
        return [*lines, "", f"**FAILED**: {data.get('error', '')}"], []
    figures: dict[str, Any] = data["figures"]
    prose = {k: v for k, v in figures.items() if _is_prose(bench, k, v, figures)}
    rows = [(k, v, *judge(bench, k, v, figures)) for k, v in figures.items() if k not in prose]
    judged = [f"{k} | {shown(v)} | {goal} | {met} |" for k, v, goal, met in rows if goal]
    table = judged + [f"{k} | {shown(v)} |  |  |" for k, v, goal, _ in rows if not goal]
    if prose:
        lines += ["", *(f"- {k}: {shown(v)}" for k, v in prose.items())]
    lines += ["", "| figure | value | goal | met |", "|---|---|---|---|", *(f"| {row}" for row in table)]
    return lines, judged


def goal_rows(section: list[str], judged: list[str]) -> list[str]:
    """A benchmark's judged figures as rows of the summary at the top, each naming the benchmark and
    its run's date (the summary gathers runs of different days; an undated row would pass one
    day's figure off as today's)."""
    run = section[0].removeprefix("## ")
    return [f"| {run} | {row}" for row in judged]


def _is_prose(bench: str, key: str, value: Any, figures: dict[str, Any]) -> bool:
    """A sentence about the run (method, machine, dataset), not a figure: text of more than four
    words that no goal judges and that is not a per-size row (`10: 27 · 100: 16 ...`)."""
    if not isinstance(value, str) or "·" in value or len(value.split()) <= 4:
        return False
    return not judge(bench, key, value, figures)[0]


def write_readme() -> None:
    info = machine()
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m bench.run_all`) from the raw results in",
        "`bench/results/*.json`;",
        "do not edit by hand. A benchmark prints figures; none of this is a timed test.",
        "",
        f"- written: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- machine: {info.pop('nproc')} CPUs ({info.pop('cpu')}), {info.pop('ram')} RAM",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in info.items()),
    ]
    sections: list[str] = []
    summary = ["## Goals the issues set, against the latest figures", ""]
    summary += ["| bench (run) | figure | value | goal | met |", "|---|---|---|---|---|"]
    for path in sorted(RESULTS.glob("*.json")):
        section, goals = bench_section(path.stem, json.loads(path.read_text()))
        sections += ["", *section]
        summary += goal_rows(section, goals)
    lines += ["", *summary, *sections]
    notes = HERE / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    (HERE / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
