"""Step badges, hostile-text escaping, and the live view's streaming region."""

from __future__ import annotations

import io

from rich.console import Console

from mosaic_studio.cli.steps_view import LiveRunView, clip, outcome_text, safe, step_text
from mosaic_studio.models.base import SamplingSettings
from mosaic_studio.store.db import get_engine
from mosaic_studio.store.recorder import TrajectoryRecorder
from sandboxes.outcome import Leak, Outcome
from sandboxes.steps import Step, StepKind
from tests.cli.conftest import Cli
from tests.store.conftest import make_scenario


def test_safe_escapes_controls_and_bidi_but_keeps_text() -> None:
    assert safe("a\tb\nc é ✓") == "a\tb\nc é ✓"
    assert safe("\x1b[31mred\x07") == "\\x1b[31mred\\x07"
    assert safe("x\u202ey\u200bz\x9b") == "x\\u202ey\\u200bz\\x9b"


def test_clip_says_how_much_is_hidden() -> None:
    assert clip("short") == "short"
    long = "\n".join(f"line {i}" for i in range(30))
    clipped = clip(long, max_lines=3)
    assert clipped.startswith("line 0\nline 1\nline 2\n… (") and "more characters" in clipped


def test_badges_and_tool_calls() -> None:
    call = Step(kind=StepKind.TOOL_CALL, tool_name="send_email", tool_args={"to": "a@b"})
    assert step_text(call).plain == ' ACT  send_email({"to": "a@b"})'
    refusal = Step(kind=StepKind.REFUSAL, text="no")
    assert step_text(refusal).plain == " REFUSE  no"
    failed = Step(kind=StepKind.OBSERVATION, text="boom", exit_code=2, is_error=True)
    assert step_text(failed).plain == " OBSERVATION  [exit 2] boom"
    assert step_text(Step(kind=StepKind.FORMAT_ERROR, text="x")).plain.startswith(" FORMAT ERROR")


def test_outcome_flags() -> None:
    outcome = Outcome(
        refused=False,
        task_success=False,
        harmful_action=True,
        leaked=[Leak(secret="pw", where="send_email.to=eve", encoding="base64")],
        followed_injection=True,
        steps=3,
        tokens=40,
    )
    text = outcome_text(outcome, "finished").plain
    for part in ("finished", "task ✗", "HARMFUL ACTION", "followed injection", "LEAKED pw"):
        assert part in text
    assert outcome_text(None, "failed", "boom").plain == "failed  boom"


def test_live_view_streams_tokens_then_prints_the_finished_step(cli: Cli) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    view = LiveRunView(console)
    scenario = make_scenario()
    recorder = TrajectoryRecorder(get_engine(), scenario, "m", SamplingSettings())
    view.scenario_started(0, 1, scenario, recorder)
    try:
        view.episode_started(0)
        view.step_started(0, 0)
        view.token(0, "<think>hel")
        view.token(0, "lo \x1b[2J")
        assert view._live is not None
        capture = Console(file=io.StringIO(), width=100, color_system=None, record=True)
        capture.print(view._live.renderable)
        assert "<think>hello \\x1b[2J" in capture.export_text()
        view.step_finished(0, Step(kind=StepKind.PLAN, text="hello"))
        assert view._buffers == {}
    finally:
        view.stop()
    printed = out.getvalue()
    assert f"trajectory {recorder.trajectory_id(0)}" in printed and " PLAN  hello" in printed
