"""The cycle collector paused through a Lambda function's cold start: from the handler module's first
import until its first invocation returns.

A cold start creates a few hundred thousand objects (module dicts, functions, classes, botocore's
service model) and frees almost none of them, yet every 2,000 allocations CPython's cycle collector
walks the young objects and now and then all of them: about 5 % of each function's cold start
(health 45 M of 870 M instructions, alerts 57 M of 1,300 M; `bench/bench_coldstart.py` with
`VIGIL_BENCH_INSTRUCTIONS=1`). Pausing it is safe for that span: what it would have found is the few
reference cycles made while importing, collected normally once it runs again. Warm invocations run
with the collector on, as everywhere else.

`functions/<name>/handler.py` imports this module first (importing it pauses: a handler module has
no code before its imports); the wrappers in `vigil.api.lambda_entry` and `vigil.lambda_logging`
resume after the first invocation, whether it returned or raised. Imports: `vigil.config`.
"""

from __future__ import annotations

import gc

_enabled = gc.isenabled()
gc.disable()  # before importing the configuration too: its imports are part of the cold start

from vigil.config import running_in_lambda  # noqa: E402

# Only in Lambda: the local server loads the same handler files long before a first request.
_paused = _enabled and running_in_lambda()
if _enabled and not _paused:
    gc.enable()


def resume() -> None:
    """Turn the collector back on if this module paused it (once; a no-op afterwards and outside Lambda)."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
