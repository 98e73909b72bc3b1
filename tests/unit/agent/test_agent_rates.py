"""Property tests for the agent's pure delta logic: counter rates and CPU utilization."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from vigil.agent.rates import CounterRates, CounterReading, CpuTicks, counter_rate, cpu_utilization

counters = st.floats(min_value=0, max_value=2**64, allow_nan=False)
steps = st.floats(min_value=1e-3, max_value=3600, allow_nan=False)
any_floats = st.floats(allow_nan=True, allow_infinity=True)


@given(st.text(min_size=1), counters, st.floats(allow_nan=False, allow_infinity=False))
def test_the_first_reading_of_a_counter_yields_no_rate(key, value, t):
    assert CounterRates().update(key, value, t) is None


@given(st.lists(st.tuples(any_floats, any_floats), min_size=1, max_size=50))
def test_a_rate_is_never_negative_nan_or_infinite_whatever_the_readings(readings):
    rates = CounterRates()
    for t, value in readings:
        rate = rates.update("c", value, t)
        assert rate is None or (math.isfinite(rate) and rate >= 0)


@given(counters, st.lists(st.tuples(steps, st.floats(min_value=0, max_value=1e12)), min_size=1, max_size=30))
def test_a_growing_counter_yields_its_increase_per_second(start, increments):
    rates = CounterRates()
    t, value = 0.0, start
    rates.update("c", value, t)
    for dt, inc in increments:
        t, value_before = t + dt, value
        value += inc
        rate = rates.update("c", value, t)
        assert rate is not None
        assert math.isclose(rate, (value - value_before) / dt, rel_tol=1e-6, abs_tol=1e-6)


@given(counters, st.floats(min_value=0, max_value=1), steps, steps, st.floats(min_value=0, max_value=1e9))
def test_a_reset_skips_one_tick_then_measures_from_the_new_baseline(high, fraction, dt1, dt2, growth):
    lower = high * fraction
    if lower >= high:  # not a reset
        return
    rates = CounterRates()
    rates.update("c", high, 0.0)
    assert rates.update("c", lower, dt1) is None
    rate = rates.update("c", lower + growth, dt1 + dt2)
    assert rate is not None
    assert math.isclose(rate, ((lower + growth) - lower) / dt2, rel_tol=1e-6, abs_tol=1e-6)


@given(counters, counters, st.floats(max_value=0, allow_nan=False))
def test_no_rate_when_time_does_not_advance(a, b, dt):
    assert counter_rate(CounterReading(10.0, a), CounterReading(10.0 + dt, b)) is None


def test_a_forgotten_counter_starts_fresh():
    rates = CounterRates()
    rates.update("eth1", 100.0, 0.0)
    rates.forget("eth1")
    assert rates.update("eth1", 500.0, 1.0) is None


ticks = st.builds(
    CpuTicks, busy=st.floats(min_value=0, max_value=1e9), total=st.floats(min_value=0, max_value=1e9)
)


@given(ticks)
def test_cpu_utilization_needs_two_readings(cur):
    assert cpu_utilization(None, cur) is None


@given(ticks, ticks)
def test_cpu_utilization_is_a_ratio_between_zero_and_one_or_nothing(prev, cur):
    util = cpu_utilization(prev, cur)
    if cur.total <= prev.total:
        assert util is None
    else:
        assert util is not None and 0.0 <= util <= 1.0


def test_cpu_utilization_is_busy_time_over_total_time():
    assert cpu_utilization(CpuTicks(10.0, 100.0), CpuTicks(13.0, 104.0)) == 0.75
