"""bench/README.md says beside each figure whether it meets the goal its issue set: the reading of
per-size figures and the verdicts must be right, or the README would call a missed goal met."""

from __future__ import annotations

from bench.goals import judge

SCALE = "10: 27 · 100: 16 · 1000: 16 · fit 22.1 + -0.006607·hosts · 10000: 0"


def test_a_per_size_figure_is_judged_at_the_size_its_goal_names() -> None:
    assert judge("bench_scale", "overview_requests", SCALE, {}) == ("≤ 50 at 1,000 hosts", "yes")
    over = "10: 3 · 100: 30 · 1000: 300 · fit 3 + 0.3·hosts · 10000: 3,003"
    assert judge("bench_scale", "overview_requests", over, {})[1] == "**no**"


def test_the_cost_goal_needs_both_under_ten_cents_and_no_more_than_at_100_hosts() -> None:
    assert judge("bench_scale", "usd_host_month_10000", 0.09, {"usd_host_month_100": 0.095})[1] == "yes"
    assert judge("bench_scale", "usd_host_month_10000", 0.09, {"usd_host_month_100": 0.08})[1] == "**no**"
    assert judge("bench_scale", "usd_host_month_10000", 0.151, {"usd_host_month_100": 0.158})[1] == "**no**"


def test_figures_without_a_goal_or_unreadable_ones_are_not_called_met() -> None:
    assert judge("bench_scale", "simulated_minutes", 6, {}) == ("", "")
    assert judge("bench_scale", "overview_requests", "10: 27", {})[1] == "?"
    assert judge("bench_server_load", "read_metrics_ratio", 2.0, {})[1] == "yes"
    assert judge("bench_server_load", "read_metrics_ratio", 2.01, {})[1] == "**no**"


def test_every_scheduled_run_must_take_at_most_80_percent_of_its_timeout_at_10000_hosts() -> None:
    within = "10: 0.004 · 100: 0.012 · 1000: 0.081 · 10000: 0.8"
    over = "10: 0.004 · 100: 0.012 · 1000: 0.081 · 10000: 0.801"
    for op in ("evaluator_tick", "fleet_run", "rollup_run"):
        assert judge("bench_scale", f"{op}_wall_vs_timeout", within, {}) == (
            "≤ 0.8 of its timeout at 10,000 hosts",
            "yes",
        )
        assert judge("bench_scale", f"{op}_wall_vs_timeout", over, {})[1] == "**no**"
