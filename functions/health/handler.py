"""health function: public `GET|HEAD /health` for uptime checkers.

Its routes take no input, so it runs without Powertools' validation: pydantic never loads, which keeps
its cold start (import + first invocation) under 300 ms (`bench/bench_coldstart.py`).
"""

from vigil import cold_start  # noqa: F401  # first: pauses the cycle collector for the cold start
from vigil.api.functions import HEALTH
from vigil.api.lambda_entry import lambda_handler

handler = lambda_handler("health", HEALTH, validation=False)
