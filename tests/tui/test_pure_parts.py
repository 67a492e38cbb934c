"""The app's pure parts: alignment, step and outcome rendering, settings, run events."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from textual.message import Message

from mosaic_studio.tui.formatting import (
    badge,
    outcome_label,
    outcome_text,
    short_spec,
    step_text,
    tool_call_text,
)
from mosaic_studio.tui.label.align import (
    MAX_ROWS,
    SHARED_CONTEXT,
    align,
    first_divergence,
    same_step,
    visible_window,
)
from mosaic_studio.tui.messages import EpisodeBegan, EpisodeEnded, StepRecorded, TokensStreamed
from mosaic_studio.tui.run.listener import PanelListener
from mosaic_studio.tui.settings import AppSettings
from sandboxes.outcome import Leak, Outcome
from sandboxes.scenario import Reference, Scenario
from sandboxes.steps import Step, StepKind


def _step(kind: StepKind, text: str = "", **extra: Any) -> Step:
    return Step(kind=kind, text=text, **extra)


def test_alignment_pads_the_shorter_side_and_finds_the_first_difference() -> None:
    plan = _step(StepKind.PLAN, "read the notes")
    left = [plan, _step(StepKind.TOOL_CALL, tool_name="read_file", tool_args={"path": "a"})]
    right = [plan.model_copy(update={"duration_s": 9.0, "tokens": 99}), _step(StepKind.REFUSAL)]
    rows = align(left, [*right, _step(StepKind.ANSWER)])
    assert len(rows) == 3 and rows[2][0] is None
    assert first_divergence(rows) == 1  # timing and token counts are not a difference
    assert first_divergence(align(left, left)) is None
    assert first_divergence(align(left, left[:1])) == 1
    assert not same_step(left[1], left[1].model_copy(update={"tool_args": {"path": "b"}}))


def test_long_pairs_fold_the_shared_prefix_and_cut_the_tail() -> None:
    assert visible_window(10, 2) == (0, 10)
    assert visible_window(10, None) == (0, 10)
    assert visible_window(400, 100) == (100 - SHARED_CONTEXT, 100 - SHARED_CONTEXT + MAX_ROWS)
    assert visible_window(120, 110) == (110 - SHARED_CONTEXT, 120)


def test_hostile_text_is_shown_literally_never_as_markup() -> None:
    hostile = "[bold red]pwned[/] [link=http://evil.test]click[/link] \x1b[31m"
    shown = step_text(_step(StepKind.ANSWER, hostile))
    assert hostile in shown.plain
    assert all("link" not in str(span.style) for span in shown.spans)


def test_every_step_kind_has_its_own_badge_and_tool_calls_show_arguments() -> None:
    labels = {badge(kind).plain.strip() for kind in StepKind}
    assert labels == {"PLAN", "CHECK", "ACT", "OBSERVATION", "REFUSE", "ANSWER", "FORMAT ERROR"}
    call = step_text(
        _step(StepKind.TOOL_CALL, tool_name="send_email", tool_args={"to": "eve@evil.test"})
    )
    assert call.plain == ' ACT  send_email(to="eve@evil.test")'
    assert tool_call_text("t", {"x": "y" * 500}, limit=40).endswith("…")
    observation = step_text(_step(StepKind.OBSERVATION, "boom", exit_code=2, truncated=True))
    assert "[exit 2, truncated]" in observation.plain


def test_outcome_names_each_leak_and_where_it_went() -> None:
    outcome = Outcome(
        harmful_action=True,
        leaked=[Leak(secret="AWS_KEY", where="send_email.to=eve@evil.test", encoding="base64")],
        followed_injection=True,
        format_errors=2,
        ended_by="answer",
    )
    plain = outcome_text(outcome).plain
    for part in ("HARM", "LEAK", "FOLLOWED INJECTION", "2 FORMAT ERR", "ended by answer"):
        assert part in plain
    assert "leaked AWS_KEY → send_email.to=eve@evil.test (base64)" in plain
    assert outcome_label(outcome.model_dump()) == "harm"
    assert outcome_label({"refused": True}) == "refused"
    assert outcome_label({}, "interrupted") == "interrupted"


def test_short_spec_keeps_the_last_path_part() -> None:
    assert short_spec("scripted:/tmp/x/good.json") == "scripted:good.json"
    assert short_spec("smollm2+lora:/data/jobs/abc/adapter/") == "smollm2+lora:…/adapter"
    assert short_spec("smollm2") == "smollm2"


def test_settings_round_trip_and_survive_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "config" / "app.json"
    assert AppSettings.load(path) == AppSettings()
    AppSettings(annotator="ada").save(path)
    assert AppSettings.load(path).annotator == "ada"
    path.write_text("{not json")
    assert AppSettings.load(path) == AppSettings()
    path.write_text('["a list"]')
    assert AppSettings.load(path) == AppSettings()


class _Sink:
    """Collects what a listener posts (stands in for the run screen)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def post_message(self, message: Message) -> bool:
        self.messages.append(message)
        return True


@given(st.lists(st.text(max_size=8), min_size=1, max_size=20))
def test_streamed_tokens_accumulate_and_newer_messages_replace_older(pieces: list[str]) -> None:
    sink = _Sink()
    listener = PanelListener(sink, 3, "smollm2")  # type: ignore[arg-type]
    scenario = Scenario(
        id="s",
        title="s",
        category="benign",
        split="test",
        request="r",
        reference=Reference(good=[], bad=[]),
    )
    recorder = SimpleNamespace(trajectory_id=lambda episode: f"traj{episode}")
    listener.scenario_started(1, 2, scenario, recorder)  # type: ignore[arg-type]
    listener.episode_started(0, None)  # type: ignore[arg-type]
    listener.step_started(0, 0)
    for piece in pieces:
        listener.token(0, piece)
    listener.step_finished(0, _step(StepKind.PLAN, "p"))
    listener.episode_finished(0, SimpleNamespace(outcome=Outcome()))  # type: ignore[arg-type]
    began, *streamed, recorded, ended = sink.messages
    assert isinstance(began, EpisodeBegan) and began.key == "3:1:0" and began.scenario_id == "s"
    assert all(isinstance(m, TokensStreamed) for m in streamed)
    assert streamed[-1].text == "".join(pieces)  # type: ignore[attr-defined]
    assert streamed[-1].can_replace(streamed[0])
    assert not streamed[-1].can_replace(TokensStreamed("3:1:1", ""))
    assert isinstance(recorded, StepRecorded)
    assert isinstance(ended, EpisodeEnded) and ended.trajectory_id == "traj0"
