"""A sparse log-bucket quantile sketch for plain values in rollups (the DDSketch idea, in 60 lines).

Hourly and daily rollups of plain-value metrics (CPU ratio, bytes/s, queue length) must still answer
p50/p95/p99 after the raw samples expire. Explicit buckets would need one fixed bound set for values
from 1e-6 to 1e12; a log-bucket sketch adapts instead: a value v goes to bucket
`ceil(log_GAMMA(|v| / MIN_ABS))` (negated for negative v, 0 for |v| < MIN_ABS), and only non-empty
buckets are stored, as `{bucket: count}`. A bucket's representative value is within RELATIVE_ERROR of
every value in it, so a quantile read from the sketch is within RELATIVE_ERROR (about 1 %) of the true
nearest-rank quantile (values below MIN_ABS in magnitude are treated as 0). Merging is adding counts:
exact, commutative and associative.

Standard library only.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import repeat

GAMMA = 1.02
RELATIVE_ERROR = (GAMMA - 1.0) / (GAMMA + 1.0)  # ≈ 0.0099
MIN_ABS = 1e-9
_LOG_GAMMA = math.log(GAMMA)
# bucket k covers (MIN_ABS * GAMMA**(k-1), MIN_ABS * GAMMA**k]; this factor times its lower edge is the
# point whose relative distance to both edges is RELATIVE_ERROR
_REPRESENTATIVE = 2.0 * GAMMA / (GAMMA + 1.0)

Sketch = dict[int, int]


def key(v: float) -> int:
    """Bucket of `v`; monotonic in `v` so sorted keys are sorted values."""
    a = abs(v)
    if a < MIN_ABS:
        return 0
    k = max(1, math.ceil(math.log(a / MIN_ABS) / _LOG_GAMMA))
    return k if v > 0 else -k


def representative(k: int) -> float:
    if k == 0:
        return 0.0
    value = MIN_ABS * GAMMA ** (abs(k) - 1) * _REPRESENTATIVE
    return value if k > 0 else -value


def add_values(sketch: Sketch, values: Iterable[float]) -> Sketch:
    """Add observations into `sketch` in place; returns it. Rollups of a back-fill add hundreds of
    millions of values, so `key` is applied by `map` (same operations, same buckets)."""
    values = values if isinstance(values, list) else list(values)
    large = values if values and min(values) >= MIN_ABS else [v for v in values if v >= MIN_ABS]
    # `key`'s arithmetic mapped over the values in C, counted in C (most values are >= MIN_ABS)
    ratios = map(
        operator.truediv, map(math.log, map(operator.truediv, large, repeat(MIN_ABS))), repeat(_LOG_GAMMA)
    )
    keys = Counter(map(max, repeat(1), map(math.ceil, ratios)))
    if len(large) < len(values):
        keys.update(key(v) for v in values if not v >= MIN_ABS)
    for k, n in keys.items():
        sketch[k] = sketch.get(k, 0) + n
    return sketch


def merge_into(target: Sketch, other: Mapping[int, int]) -> Sketch:
    for k, c in other.items():
        target[k] = target.get(k, 0) + c
    return target


def quantile(
    sketch: Mapping[int, int], q: float, lo: float | None = None, hi: float | None = None
) -> float | None:
    """Nearest-rank q-quantile (rank `max(1, ceil(q·n))`), clamped to the known min/max; None if empty.

    Raises:
        ValueError: q outside [0, 1].
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError("quantile q must be within [0, 1]")
    n = sum(sketch.values())
    if n <= 0:
        return None
    rank = max(1, math.ceil(q * n))
    cumulative = 0
    value = 0.0
    for k in sorted(sketch):
        cumulative += sketch[k]
        if cumulative >= rank:
            value = representative(k)
            break
    if lo is not None:
        value = max(value, lo)
    if hi is not None:
        value = min(value, hi)
    return value


def to_json(sketch: Mapping[int, int]) -> dict[str, int]:
    """JSON objects need string keys."""
    return {str(k): c for k, c in sorted(sketch.items())}


def from_json(data: Mapping[str, int]) -> Sketch:
    return {int(k): int(c) for k, c in data.items()}
