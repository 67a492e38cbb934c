"""The left side of Run: scenario filters and picks, model specs, samples and sampling settings."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, SelectionList

from mosaic_studio.models.base import SamplingSettings
from sandboxes.scenario import CATEGORIES, SPLITS, Scenario

ALL = "all"


@dataclass(frozen=True)
class RunRequest:
    """What the user asked to run."""

    scenario_ids: list[str]
    model_specs: list[str]
    samples: int
    settings: SamplingSettings
    max_steps: int | None


class RunForm(VerticalScroll):
    """Pick and configure a run; posts `RunForm.Submitted` or shows what is wrong."""

    class Submitted(Message):
        def __init__(self, request: RunRequest) -> None:
            super().__init__()
            self.request = request

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._scenarios: list[Scenario] = []

    def compose(self) -> ComposeResult:
        yield Label("Scenarios", classes="form-heading")
        with Horizontal(classes="form-row"):
            yield Select(
                [(c, c) for c in (ALL, *CATEGORIES)], value=ALL, allow_blank=False, id="category"
            )
            yield Select([(s, s) for s in (ALL, *SPLITS)], value=ALL, allow_blank=False, id="split")
        yield SelectionList[str](id="scenario-list")
        yield Label("Model A · optional model B beside it", classes="form-heading")
        yield Select[str](
            [("smollm2", "smollm2")], value="smollm2", allow_blank=False, id="model-a"
        )
        yield Select[str]([], prompt="model B: none", id="model-b")
        yield Input(placeholder="or any spec for A: hf:…, openai:…, scripted:FILE", id="model-spec")
        yield Label("Samples · temperature · top-p · max tokens", classes="form-heading")
        with Horizontal(classes="form-row"):
            yield Input("1", id="samples", type="integer", tooltip="samples per scenario")
            yield Input("0.7", id="temperature", type="number", tooltip="temperature")
            yield Input("0.95", id="top-p", type="number", tooltip="nucleus sampling (top-p)")
            yield Input("256", id="max-new-tokens", type="integer", tooltip="new tokens per turn")
        yield Label("Seed · max steps", classes="form-heading")
        with Horizontal(classes="form-row"):
            yield Input(placeholder="seed", id="seed", type="integer")
            yield Input(placeholder="max steps", id="max-steps", type="integer")
        yield Button("Start run", id="start", variant="success")

    def set_scenarios(self, scenarios: list[Scenario]) -> None:
        self._scenarios = scenarios
        self._refresh_list()

    def set_models(self, specs: list[str]) -> None:
        options = [(spec, spec) for spec in specs]
        model_a = self.query_one("#model-a", Select)
        current = model_a.value
        model_a.set_options(options)
        if current in specs:
            model_a.value = current
        self.query_one("#model-b", Select).set_options(options)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("category", "split"):
            self._refresh_list()

    def _refresh_list(self) -> None:
        category = self.query_one("#category", Select).value
        split = self.query_one("#split", Select).value
        picks = self.query_one("#scenario-list", SelectionList)
        chosen = set(picks.selected)
        picks.clear_options()
        for scenario in self._scenarios:
            if category not in (ALL, scenario.category) or split not in (ALL, scenario.split):
                continue
            label = f"{scenario.id}  [{scenario.category}/{scenario.split}]"
            picks.add_option((label, scenario.id, scenario.id in chosen))
        if picks.option_count and picks.highlighted is None:
            picks.highlighted = 0  # so space picks one right away

    def select_scenarios(self, scenario_ids: list[str]) -> None:
        picks = self.query_one("#scenario-list", SelectionList)
        for scenario_id in scenario_ids:
            picks.select(scenario_id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "start":
            return
        event.stop()
        try:
            request = self.build_request()
        except ValueError as exc:
            self.notify(str(exc), title="Cannot start", severity="error")
            return
        self.post_message(self.Submitted(request))

    def build_request(self) -> RunRequest:
        """Read the form; a `ValueError` says what is missing or wrong."""
        scenario_ids = [str(s) for s in self.query_one("#scenario-list", SelectionList).selected]
        if not scenario_ids:
            raise ValueError("pick at least one scenario (space toggles one in the list)")
        typed = self.query_one("#model-spec", Input).value.strip()
        model_a = typed or str(self.query_one("#model-a", Select).value)
        specs = [model_a]
        model_b = self.query_one("#model-b", Select).value
        if isinstance(model_b, str) and model_b and model_b != model_a:
            specs.append(model_b)
        samples = _int(self, "#samples", "samples", 1, minimum=1, maximum=16)
        settings = SamplingSettings(
            temperature=_float(self, "#temperature", "temperature", 0.7),
            top_p=_float(self, "#top-p", "top-p", 0.95, maximum=1.0),
            max_new_tokens=_int(self, "#max-new-tokens", "max new tokens", 256, minimum=1),
            seed=_optional_int(self, "#seed", "seed"),
        )
        max_steps = _optional_int(self, "#max-steps", "max steps")
        if max_steps is not None and max_steps < 1:
            raise ValueError("max steps must be at least 1")
        return RunRequest(scenario_ids, specs, samples, settings, max_steps)


def _text(form: RunForm, selector: str) -> str:
    return form.query_one(selector, Input).value.strip()


def _int(
    form: RunForm, selector: str, name: str, default: int, *, minimum: int, maximum: int = 0
) -> int:
    raw = _text(form, selector)
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum or (maximum and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum else f"at least {minimum}"
        raise ValueError(f"{name} must be {bound}")
    return value


def _optional_int(form: RunForm, selector: str, name: str) -> int | None:
    raw = _text(form, selector)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None


def _float(
    form: RunForm, selector: str, name: str, default: float, *, maximum: float = 5.0
) -> float:
    raw = _text(form, selector)
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if not 0.0 <= value <= maximum:
        raise ValueError(f"{name} must be between 0 and {maximum:g}")
    return value
