"""Unit tests that replay a benchmark's scripted simulation import it from `bench/`, which (like
`infra/`) is not installed into the venv: put the repository root on the path."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
