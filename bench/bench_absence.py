""" "Host not reporting" over scripted time: false firings and detection delays of the shipped
`default-host-down` rule for agent push intervals 10 s, 60 s and 300 s x evaluation periods 10 s
(local `MONITORING_INTERVAL`) and 60 s (AWS's EventBridge schedule) x seeded random phases and jitter.

Method: one host pushes for 24 simulated hours at its interval, each push moved by a uniform jitter
of ±10 % of the interval and, one push in a hundred, delayed by up to one more interval (a retried
push); the evaluator ticks every evaluation period from its own random phase. Every push goes
through `cadence.observe_push` (what the stores keep on the host record) and every tick through the
pure evaluator with the rule as shipped (3 missed intervals). After 24 hours the host stops. A false
firing is a firing at a tick after which the host still pushed; the detection delay is the first
firing after the last push minus that push, to hold within `(missed + 1) x interval + one
evaluation period`. No clock, store or network: the whole grid runs in seconds, so `make bench`
and the unit tests (`tests/unit/test_host_absence_grid.py`) run the same code.
"""

from __future__ import annotations

import heapq
import random
import statistics
from dataclasses import dataclass
from typing import Any

from vigil.config import Thresholds
from vigil.domain.alerts import RuleState, Transition
from vigil.domain.cadence import Cadence, Reporting, observe_push
from vigil.domain.evaluator import evaluate
from vigil.domain.rules import Rule, default_rules

INTERVALS = (10.0, 60.0, 300.0)
PERIODS = (10.0, 60.0)
SEEDS = (1, 2, 3)
START = 1_764_000_000.0


@dataclass(frozen=True)
class Outcome:
    interval: float
    period: float
    seed: int
    pushes: int
    ticks: int
    false_firings: int
    detection_delay: float | None  # seconds from the last push to the firing; None: never fired
    bound: float


def host_down_rule(missed: int = 3) -> Rule:
    rules = default_rules(Thresholds(host_missed_intervals=missed), 10.0)
    return next(r for r in rules if r.id == "default-host-down")


def push_times(rng: random.Random, interval: float, hours: float, jitter: float) -> list[float]:
    phase = rng.uniform(0, interval)
    out = []
    nominal = START + phase
    while nominal < START + hours * 3600:
        late = rng.uniform(0, interval) if rng.random() < 0.01 else 0.0
        out.append(nominal + rng.uniform(-jitter, jitter) * interval + late)
        nominal += interval
    return sorted(out)


def simulate(
    interval: float, period: float, seed: int, *, hours: float = 24.0, missed: int = 3, jitter: float = 0.1
) -> Outcome:
    """One host, one evaluator, `hours` of healthy pushes, then a stop (module docstring)."""
    rng = random.Random(f"{seed}:{interval}:{period}")
    rule = host_down_rule(missed)
    pushes = push_times(rng, interval, hours, jitter)
    last_push = pushes[-1]
    bound = (missed + 1) * interval + period
    give_up = last_push + bound + 2 * period
    ticks = []
    tick = START + rng.uniform(0, period)
    while tick <= give_up:
        ticks.append(tick)
        tick += period
    # Pushes before ticks at the same instant: a push received at the tick is one the tick sees.
    timeline = list(heapq.merge(((t, 0) for t in pushes), ((t, 1) for t in ticks)))
    cadence, state = Cadence(), RuleState(rule.id)
    false_firings, delay = 0, None
    for at, is_tick in timeline:
        if not is_tick:
            cadence = observe_push(cadence, at)
            continue
        state, events = evaluate(rule, [], state, at, reporting=Reporting({"h": cadence}, period))
        for event in events:
            if isinstance(event, Transition) and event.to_status == "firing":
                if at < last_push:
                    false_firings += 1
                elif delay is None:
                    delay = at - last_push
    return Outcome(interval, period, seed, len(pushes), len(ticks), false_firings, delay, bound)


def grid(hours: float = 24.0, seeds: tuple[int, ...] = SEEDS) -> list[Outcome]:
    return [simulate(i, p, s, hours=hours) for i in INTERVALS for p in PERIODS for s in seeds]


def run() -> dict[str, Any]:
    """Flat figures for `bench/README.md`: totals over the grid, then per (agent interval, evaluation
    period) the worst and median detection delay after the last push and the bound it must meet."""
    outcomes = grid()
    figures: dict[str, Any] = {
        "method": "24 simulated hours per run, jitter ±10 % of the interval + 1 % retried pushes, "
        f"3 missed intervals (the shipped default), seeds {','.join(map(str, SEEDS))}",
        "runs": len(outcomes),
        "false_firings_total": sum(o.false_firings for o in outcomes),
        "missed_detections_total": sum(o.detection_delay is None for o in outcomes),
    }
    for interval in INTERVALS:
        for period in PERIODS:
            cell = [o for o in outcomes if o.interval == interval and o.period == period]
            delays = [o.detection_delay for o in cell if o.detection_delay is not None]
            name = f"agent {interval:g}s / eval {period:g}s"
            figures[f"{name}: detection max s"] = round(max(delays), 1) if delays else None
            figures[f"{name}: detection median s"] = round(statistics.median(delays), 1) if delays else None
            figures[f"{name}: bound s"] = cell[0].bound
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
