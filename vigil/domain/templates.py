"""Alert message templates: jinja2 compiled and rendered in a sandbox (a template is user input: it
must not reach Python internals, mutate anything or run unbounded), plus the limits that keep one
template from stalling the evaluation of every rule after it.

Limits (`render`): at most `RENDER_SECONDS` of template code (a trace function on the template's own
frames checks the clock on every line, so nested loops with or without output stop), at most
`MAX_MESSAGE_CHARS` of output (checked while streaming), `*` on strings/lists and `**` bounded before
they allocate, no `namespace()` (the only way to accumulate across loop iterations). A template over
a limit raises `TemplateFailure`; the evaluator then sends the default message with a note. Rule
creation renders the template once on `SAMPLE_CONTEXT` and refuses it if it breaks a limit
(`check_limits`).

jinja2 is imported lazily (≈45 ms) so handlers that never touch templates do not pay for it. Imports:
standard library and jinja2 only.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from functools import lru_cache
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

MAX_MESSAGE_CHARS = 2000
RENDER_SECONDS = 0.25
MAX_SEQUENCE_ITEMS = 10_000  # result of `*` on a string or list
MAX_EXPONENT = 64
MAX_POWER_DIGITS = 1000
TEMPLATE_FILENAME = "<template>"  # jinja2's file name for code compiled from a string

# The variables a message template sees (`vigil.domain.evaluator` builds the real ones), filled with a
# typical firing alert: what rule creation renders to check the limits.
SAMPLE_CONTEXT: dict[str, Any] = {
    "rule": {
        "id": "r-sample",
        "name": "Sample rule",
        "severity": "warning",
        "metric": "system.cpu.utilization",
        "agg": "avg",
        "op": ">",
    },
    "status": "firing",
    "kind": "firing",
    "group": {"host": "web-1"},
    "value": 0.93,
    "value_display": "93%",
    "threshold": 0.8,
    "threshold_display": "80%",
    "started_at": "2026-01-01T00:00:00.000Z",
    "resolved_at": None,
    "flapping": False,
}


class TemplateFailure(ValueError):
    """A template that broke a limit or failed to render; the message says which, for people."""


_budget = threading.local()


def _trace_lines(frame: FrameType, event: str, arg: Any) -> Any:
    if time.monotonic() > _budget.deadline:
        raise TemplateFailure(f"rendering took longer than {RENDER_SECONDS:g} s")
    return _trace_lines


def _trace_calls(frame: FrameType, event: str, arg: Any) -> Any:
    # Only the template's own frames are traced line by line: jinja2 and Python stay at full speed.
    return _trace_lines if frame.f_code.co_filename == TEMPLATE_FILENAME else None


@lru_cache(maxsize=1)
def _env() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(left, int | float) and isinstance(right, int | float):
                digits = abs(right) * math.log10(abs(left)) if abs(left) > 1 else 0.0
                if abs(right) > MAX_EXPONENT or digits > MAX_POWER_DIGITS:
                    raise TemplateFailure(
                        f"a power above exponent {MAX_EXPONENT} or {MAX_POWER_DIGITS:,} digits"
                    )
            if operator == "*":
                seq, times = (left, right) if isinstance(left, str | list | tuple) else (right, left)
                sized = isinstance(seq, str | list | tuple) and isinstance(times, int)
                if sized and len(seq) * times > MAX_SEQUENCE_ITEMS:
                    raise TemplateFailure(f"a repeated string or list longer than {MAX_SEQUENCE_ITEMS:,}")
            return super().call_binop(context, operator, left, right)

    # Plain-text messages (Slack/Discord/e-mail escape on their side), so no HTML autoescape.
    env = BoundedSandbox(autoescape=False, undefined=StrictUndefined)
    env.globals.pop("namespace", None)
    return env


def validate_template(template: str) -> None:
    """Compile `template` in the sandbox.

    Raises:
        ValueError: the template does not compile (message says where).
    """
    from jinja2 import TemplateSyntaxError

    try:
        _env().from_string(template)
    except TemplateSyntaxError as exc:
        raise ValueError(f"message template error on line {exc.lineno}: {exc.message}") from None


def check_limits(template: str) -> None:
    """Render `template` once on `SAMPLE_CONTEXT`. Other render errors (a variable only some alerts
    have) are left to rendering time, which explains them in the message.

    Raises:
        ValueError: it breaks a limit on the sample alert (the message says which).
    """
    try:
        render(template, SAMPLE_CONTEXT)
    except TemplateFailure as exc:
        if str(exc).startswith(LIMIT_PREFIXES):
            raise ValueError(f"message template refused on a sample alert: {exc}") from None


def render(template: str, context: dict[str, Any]) -> str:
    """Render in the sandbox within the limits.

    Raises:
        TemplateFailure: a limit was hit, or the template failed (unknown variable, sandbox violation).
    """
    from jinja2 import TemplateError

    chunks: list[str] = []
    size = 0
    previous = sys.gettrace()
    _budget.deadline = time.monotonic() + RENDER_SECONDS
    sys.settrace(_trace_calls)
    try:
        for chunk in _env().from_string(template).generate(**context):
            size += len(chunk)
            if size > MAX_MESSAGE_CHARS:
                raise TemplateFailure(f"output longer than {MAX_MESSAGE_CHARS:,} characters")
            chunks.append(chunk)
    except TemplateFailure:
        raise
    except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise TemplateFailure(f"{type(exc).__name__}: {exc}") from None
    finally:
        sys.settrace(previous)
    return "".join(chunks)


LIMIT_PREFIXES = ("rendering took longer", "output longer", "a power above", "a repeated string")
