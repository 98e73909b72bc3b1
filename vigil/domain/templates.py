"""Alert message templates: jinja2 compiled and rendered in a `SandboxedEnvironment` (a template is
user input: it must not reach Python internals), plus the default message used when a rule has none.

jinja2 is imported lazily (≈45 ms) so handlers that never touch templates do not pay for it. Imports:
standard library and jinja2 only.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

MAX_MESSAGE_CHARS = 2000


@lru_cache(maxsize=1)
def _env() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    # Plain-text messages (Slack/Discord/e-mail escape on their side), so no HTML autoescape.
    return SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


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


def render(template: str, context: dict[str, Any]) -> str:
    """Render in the sandbox; on any error (unknown variable, sandbox violation) return a short
    explanation instead of raising, so a bad template never blocks an alert."""
    from jinja2 import TemplateError

    try:
        text = _env().from_string(template).render(**context)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        return f"(message template failed: {type(exc).__name__}: {exc})"
    return text[:MAX_MESSAGE_CHARS]
