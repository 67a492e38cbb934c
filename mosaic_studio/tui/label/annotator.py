"""Asks the annotator's name once; the app remembers it in its settings file."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class AnnotatorPrompt(ModalScreen[str]):
    """Dismissed with the name typed (never empty)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="annotator-box"):
            yield Label("Who is labelling? Your name is stored with each label.")
            yield Input(placeholder="your name", id="annotator-name")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if name:
            self.dismiss(name)
        else:
            self.notify("A name is needed to store labels.", severity="warning")
