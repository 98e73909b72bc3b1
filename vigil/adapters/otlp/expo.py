"""OTLP exponential histograms → Vigil's explicit-bucket histograms, and their cumulative deltas.

An exponential bucket `i` at scale `s` holds values in `(base**i, base**(i+1)]` with
`base = 2**(2**-s)`; that is exactly an explicit bucket with those two bounds, so the conversion moves
no observation across a bound. To keep bucket edges on one shared grid (histograms of different hosts
and intervals then merge on common bounds) the scale is first reduced to at most `MAX_SCALE` = 3
(base 2**(1/8) ≈ 1.0905), and further until at most `MAX_BUCKETS` populated buckets remain. Error
bound: a quantile read from the result is exact to its bucket, i.e. within a relative error of
`base - 1` ≤ 9.05 % (at scale 3; coarser when the source scale was lower). Zero and negative
observations are all counted in the first bucket (`<= lowest bound`); latency and size histograms have
none. Standard library only (plus domain models).
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.domain.cumulative import CumulativeEntry
from vigil.domain.records import Histogram

MAX_SCALE = 3
MAX_BUCKETS = 160


@dataclass(frozen=True, slots=True)
class Expo:
    """The parts of an OTLP ExponentialHistogramDataPoint that matter here (negatives summed)."""

    scale: int
    offset: int
    counts: tuple[int, ...]
    low: int  # zero_count + every negative bucket
    sum: float
    count: int
    min: float | None = None
    max: float | None = None


def downscale(e: Expo, scale: int) -> Expo:
    """The same histogram at a lower (coarser) scale: index `i` becomes `i >> (e.scale - scale)`."""
    shift = e.scale - scale
    if shift <= 0:
        return e
    if not e.counts:
        return Expo(scale, e.offset, e.counts, e.low, e.sum, e.count, e.min, e.max)
    first = e.offset >> shift
    last = (e.offset + len(e.counts) - 1) >> shift
    merged = [0] * (last - first + 1)
    for k, c in enumerate(e.counts):
        merged[((e.offset + k) >> shift) - first] += c
    return Expo(scale, first, tuple(merged), e.low, e.sum, e.count, e.min, e.max)


def normalize(e: Expo) -> Expo:
    """Trim empty edge buckets and lower the scale to ≤ MAX_SCALE and ≤ MAX_BUCKETS buckets."""
    counts = list(e.counts)
    offset = e.offset
    while counts and counts[0] == 0:
        counts.pop(0)
        offset += 1
    while counts and counts[-1] == 0:
        counts.pop()
    out = downscale(
        Expo(e.scale, offset, tuple(counts), e.low, e.sum, e.count, e.min, e.max), min(e.scale, MAX_SCALE)
    )
    while len(out.counts) > MAX_BUCKETS:
        out = downscale(out, out.scale - 1)
    return out


def _bound(index: int, scale: int) -> float:
    """`base**index` at `scale`, computed as a power of two (exact for integral exponents)."""
    exponent = index / (1 << scale) if scale >= 0 else float(index << -scale)
    if not -1022 <= exponent <= 1023:  # subnormal or infinite bounds would collapse or overflow
        raise OverflowError(f"bucket bound 2**{exponent} is outside the normal float range")
    return float(2.0**exponent)


def to_histogram(e: Expo) -> Histogram:
    """The explicit-bucket equivalent of a normalized exponential histogram.

    Raises:
        OverflowError: bucket bounds outside the normal float range (the caller rejects the point).
    """
    if not e.counts:
        return Histogram((), (e.low,), e.sum, e.low, e.min, e.max)
    bounds = tuple(_bound(i, e.scale) for i in range(e.offset, e.offset + len(e.counts) + 1))
    counts = (e.low, *e.counts, 0)
    return Histogram(bounds, counts, e.sum, sum(counts), e.min, e.max)


def expo_delta(
    prev: CumulativeEntry | None, start_ns: int, time_ns: int, e: Expo, tracking_since: float
) -> tuple[Expo | None, CumulativeEntry]:
    """Cumulative → delta for exponential histograms, compared at the lower of the two scales (the
    SDK lowers the scale as the range grows, so bucket edges move between exports). Same first-point,
    retry and reset rules as `domain.cumulative.histogram_delta`. The entry keeps (scale, offset) in
    `bounds` and the low bucket in `value`."""
    entry = CumulativeEntry(
        start_ns=start_ns,
        time_ns=time_ns,
        value=float(e.low),
        counts=e.counts,
        bounds=(float(e.scale), float(e.offset)),
        sum=e.sum,
        count=e.count,
    )
    if prev is None:
        first_whole = start_ns > 0 and start_ns / 1e9 >= tracking_since
        return (e if first_whole else None), entry
    if time_ns <= prev.time_ns:
        return None, prev
    scale0, offset0 = int(prev.bounds[0]), int(prev.bounds[1])
    before = Expo(scale0, offset0, prev.counts, int(prev.value), prev.sum, prev.count)
    scale = min(before.scale, e.scale)
    a, b = downscale(e, scale), downscale(before, scale)
    if (start_ns != 0 and start_ns != prev.start_ns) or a.count < b.count or a.low < b.low:
        return e, entry
    if b.counts and (
        not a.counts or b.offset < a.offset or b.offset + len(b.counts) > a.offset + len(a.counts)
    ):
        return e, entry  # the previous range is not inside the current one: a reset
    counts = list(a.counts)
    for k, c in enumerate(b.counts):
        counts[b.offset - a.offset + k] -= c
    if any(c < 0 for c in counts):
        return e, entry
    return Expo(scale, a.offset, tuple(counts), a.low - b.low, a.sum - b.sum, a.count - b.count), entry
