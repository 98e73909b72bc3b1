"""Message templates cannot stall evaluation: nested-loop bombs (with and without output), huge
repetitions and exponents stop at the render limits; rule creation refuses such a template on a
sample alert naming the `message` field; a stored bomb renders the default message with a note, in
bounded time, and the rule after it is evaluated normally."""

from __future__ import annotations

import time

import pytest

from tests.unit.test_alert_evaluator import T0, cpu, rule
from vigil.domain.alerts import Notification
from vigil.domain.errors import Invalid
from vigil.domain.evaluator import evaluate
from vigil.domain.rules import parse_rule
from vigil.domain.templates import MAX_MESSAGE_CHARS, RENDER_SECONDS, SAMPLE_CONTEXT, TemplateFailure, render

SILENT_BOMB = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
LOUD_BOMB = "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}"
MACRO_BOMB = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        (SILENT_BOMB, "rendering took longer than"),
        (MACRO_BOMB, "rendering took longer than"),
        (LOUD_BOMB, "output longer than"),
        ("{{ 'x' * 1000000000 }}", "a repeated string"),
        ("{{ 2 ** 100000 }}", "a power above"),
        ("{{ (10 ** 60) ** 60 }}", "a power above"),
    ],
    ids=[
        "nested-loops-no-output",
        "recursive-macro",
        "nested-loops-output",
        "repeat",
        "power",
        "power-of-power",
    ],
)
def test_a_template_bomb_stops_at_the_render_limits(template: str, reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateFailure, match=reason):
        render(template, SAMPLE_CONTEXT)
    assert time.monotonic() - started < RENDER_SECONDS + 0.5


def test_templates_cannot_accumulate_across_loop_iterations() -> None:
    accumulate = (
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
    )
    with pytest.raises(TemplateFailure, match="namespace"):
        render(accumulate, SAMPLE_CONTEXT)


def test_an_ordinary_template_renders_within_the_limits() -> None:
    text = render("{{ rule.name }} on {{ group.host }}: {{ value_display }}", SAMPLE_CONTEXT)
    assert text == "Sample rule on web-1: 93%"
    assert len(render("{{ 'ab' * 1000 }}", SAMPLE_CONTEXT)) == MAX_MESSAGE_CHARS


@pytest.mark.parametrize("template", [SILENT_BOMB, LOUD_BOMB])
def test_creating_a_rule_with_a_template_bomb_is_refused_naming_the_message_field(template: str) -> None:
    body = {"name": "Bomb", "metric": "system.cpu.utilization", "threshold": 0.8, "message": template}
    with pytest.raises(Invalid) as err:
        parse_rule(body)
    assert err.value.field == "message" and "sample alert" in err.value.message


def test_a_stored_bomb_sends_the_default_message_with_a_note_and_the_next_rule_is_not_delayed() -> None:
    bomb = rule(id="r-bomb", message=SILENT_BOMB)  # stored before the limits existed: loads fine
    plain = rule(id="r-plain", message="{{ rule.name }}: {{ value_display }}")
    started = time.monotonic()
    _, bomb_events = evaluate(bomb, [cpu("web-1", T0 - 1, 0.93)], None, T0)
    _, plain_events = evaluate(plain, [cpu("web-1", T0 - 1, 0.93)], None, T0)
    assert time.monotonic() - started < RENDER_SECONDS + 0.5
    (note,) = [e for e in bomb_events if isinstance(e, Notification)]
    assert note.message.startswith("avg(system.cpu.utilization) over 1m is 0.93")
    assert "message template failed: rendering took longer than" in note.message
    assert [e.message for e in plain_events if isinstance(e, Notification)] == ["High CPU: 0.93"]
