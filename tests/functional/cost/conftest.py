"""The cost readout's tests count their load with `bench/bench_cost.py`'s meter and pricing, and
`bench/` (like `infra/`) is not installed into the venv: put the repository root on the path."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
