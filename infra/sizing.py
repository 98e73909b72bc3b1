"""The scheduled runs' sizing, in plain numbers: the alerts and jobs functions' timeouts and how many
shards the hourly rollups are split into. Kept apart from the constructs (no CDK import) so that
`bench/scale_model.py` checks its modelled durations against exactly what is deployed without
starting CDK's runtime. docs/data-model.md, "Scheduled runs".
"""

from __future__ import annotations

EVALUATION_PERIOD_SECONDS = 60  # the evaluator's schedule; "host not reporting" adds it as grace
EVALUATOR_TIMEOUT_SECONDS = 50  # the alerts function: a tick must end before the next one starts
# The alerts function's hourly run (forecast rules over settled rollups, `vigil.alerting.windows.hourly`)
# at this minute of each hour: after the hour's rollup shards (the jobs function's first run of the hour,
# in its first JOBS_PERIOD_MINUTES, each shard under JOBS_TIMEOUT_SECONDS) and the next run, which moves
# the shared watermark once they have all finished, so it reads the hour the rollups just settled.
HOURLY_EVALUATION_MINUTE = 20
JOBS_PERIOD_MINUTES = 5  # the jobs function's schedule: the fleet tier's minutes, each rollup shard
# Below the period, so a shard's run never overlaps its own next run (EventBridge does not wait).
JOBS_TIMEOUT_SECONDS = 240
# Concurrent invocations the hourly rollups are split into (hosts by stable hash, `vigil.domain.shards`):
# at 10,000 hosts each handles ~715 hosts, modelled well inside JOBS_TIMEOUT_SECONDS.
ROLLUP_SHARDS = 14
