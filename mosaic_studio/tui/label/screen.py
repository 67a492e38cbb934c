"""The Label area: one pair at a time, keys to choose, each label committed at once."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Input, Static

from mosaic_studio.judges import labels
from mosaic_studio.tui.base import AreaScreen
from mosaic_studio.tui.label.annotator import AnnotatorPrompt
from mosaic_studio.tui.label.pair_view import PairView
from mosaic_studio.tui.label.queue import PairToLabel, labelled_count, load_pair, unlabelled_pairs
from mosaic_studio.tui.messages import PairLabeled

KEY_CHOICES = {"left": "prefer left", "right": "prefer right", "tie": "tie", "both_bad": "both bad"}


class LabelScreen(AreaScreen):
    """Labels the queue of unlabelled pairs; left/right sides are shuffled per pair."""

    SUB_TITLE = "Label · which is better?"
    AUTO_FOCUS = "#pair-view"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "label('left')", "◀ Left"),
        Binding("d", "label('right')", "Right ▶"),
        Binding("t", "label('tie')", "Tie"),
        Binding("b", "label('both_bad')", "Both bad"),
        Binding("s", "label('skip')", "Skip"),
        Binding("u", "undo", "Undo"),
        Binding("n", "move(1)", "Next/prev", key_display="n/p"),
        Binding("p", "move(-1)", "Previous", show=False),
        Binding("r", "rationale", "Why"),
        Binding("escape", "leave_rationale", "", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.annotator_name = ""
        self._asking = False
        self._queue: list[int] = []
        self._position = 0
        self._labelled = 0
        self._done: dict[int, str] = {}
        self._left_side: dict[int, str] = {}
        self._current: PairToLabel | None = None
        self._shown_at = 0.0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="label-progress")
        yield PairView(id="pair-view")
        yield Input(placeholder="rationale (r to write, enter to keep)", id="rationale")
        yield Footer(compact=True, show_command_palette=False)

    def on_screen_resume(self) -> None:
        if self.annotator_name:
            self.load_queue()
            return
        name = self.services.load_settings().annotator
        if name:
            self._set_annotator(name)
        elif not self._asking:
            self._asking = True
            self.app.push_screen(AnnotatorPrompt(), self._set_annotator)

    def _set_annotator(self, name: str | None) -> None:
        self._asking = False
        if not name:
            return
        settings = self.services.load_settings()
        if settings.annotator != name:
            settings.annotator = name
            self.services.save_settings(settings)
        self.annotator_name = name
        self.load_queue()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="label-load",
        description="Loading pairs",
    )
    def load_queue(self) -> None:
        with Session(self.services.engine) as session:
            who = labels.annotator(session, self.annotator_name)
            queue = unlabelled_pairs(session, who.id)
            done = labelled_count(session, who.id)
        self.app.call_from_thread(self._queue_loaded, queue, done)

    def _queue_loaded(self, queue: list[int], labelled: int) -> None:
        current = self._current.pair.id if self._current else None
        self._queue = queue
        self._labelled = labelled
        self._done = {}
        self._position = queue.index(current) if current in queue else 0
        self._show_position()

    def _show_position(self) -> None:
        if not self._queue or self._position >= len(self._queue):
            self._current = None
            self.query_one(PairView).remove_children()
            self._update_progress()
            return
        self.show_pair(self._queue[self._position])

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="label-pair",
        description="Loading a pair",
    )
    def show_pair(self, pair_id: int) -> None:
        with Session(self.services.engine) as session:
            loaded = load_pair(session, pair_id)
        self.app.call_from_thread(self._pair_loaded, loaded)

    def _pair_loaded(self, loaded: PairToLabel) -> None:
        pair_id = loaded.pair.id
        assert pair_id is not None
        left = self._left_side.setdefault(pair_id, self.services.rng.choice(("A", "B")))
        self._current = loaded
        self._shown_at = self.services.clock()
        sides = (loaded.a, loaded.b) if left == "A" else (loaded.b, loaded.a)
        self.query_one(PairView).show(*sides)
        self.query_one("#rationale", Input).value = ""
        self._update_progress()

    def _update_progress(self) -> None:
        text = Text.assemble(
            (" LABEL ", "bold white on #7a3d99"),
            f"  {self.annotator_name or '?'} · labelled {self._labelled}",
            f" · queue {len(self._queue)}",
        )
        if self._current is not None:
            pair = self._current.pair
            text.append(f" · pair {self._position + 1}/{len(self._queue)}", style="bold")
            text.append(f" · #{pair.id} {pair.scenario_id} [{pair.category}] {pair.strategy}")
            done = self._done.get(pair.id or -1)
            if done:
                text.append(f" · labelled: {done}", style="bold #8be3a5")
        elif self.annotator_name:
            text.append("  — no unlabelled pairs (make some with `mosaic pairs make`)", style="dim")
        self.query_one("#label-progress", Static).update(text)

    def action_label(self, key: str) -> None:
        if self._current is None or self._current.pair.id is None:
            self.notify("No pair to label.", severity="warning")
            return
        pair_id = self._current.pair.id
        left = self._left_side[pair_id]
        right = "B" if left == "A" else "A"
        choice = {"left": left, "right": right}.get(key, key)
        rationale = self.query_one("#rationale", Input).value.strip()
        seconds = max(0.0, self.services.clock() - self._shown_at)
        self.record(pair_id, choice, left, rationale, seconds)

    @work(thread=True, exit_on_error=False, group="label-write", description="Saving the label")
    def record(self, pair_id: int, choice: str, left: str, rationale: str, seconds: float) -> None:
        with Session(self.services.engine) as session:
            who = labels.annotator(session, self.annotator_name)
            labels.record_judgment(session, pair_id, who, choice, left, rationale, seconds)
        self.post_message(PairLabeled(pair_id, choice))

    def action_undo(self) -> None:
        if self.annotator_name:
            self.undo()

    @work(thread=True, exit_on_error=False, group="label-write", description="Undoing")
    def undo(self) -> None:
        with Session(self.services.engine) as session:
            who = labels.annotator(session, self.annotator_name)
            retracted = labels.undo_last(session, who)
        if retracted is None:
            self.app.call_from_thread(self.notify, "Nothing to undo.", severity="warning")
            return
        self.post_message(PairLabeled(retracted.pair_id, "undo"))

    def on_pair_labeled(self, event: PairLabeled) -> None:
        if event.choice == "undo":
            self._done.pop(event.pair_id, None)
            self._labelled = max(0, self._labelled - 1)
            if event.pair_id not in self._queue:
                self._queue.insert(self._position, event.pair_id)
            self._position = self._queue.index(event.pair_id)
            self.notify(f"Label of pair #{event.pair_id} undone.")
            self._show_position()
            return
        if event.pair_id not in self._done:
            self._labelled += 1
        self._done[event.pair_id] = event.choice
        self.notify(f"Pair #{event.pair_id}: {event.choice}", timeout=2)
        self._advance()

    def _advance(self) -> None:
        """Go to the next pair in the queue that is not labelled yet."""
        for offset in range(1, len(self._queue) + 1):
            position = (self._position + offset) % len(self._queue)
            if self._queue[position] not in self._done:
                self._position = position
                self._show_position()
                return
        self._current = None
        self.query_one(PairView).remove_children()
        self._update_progress()
        self.notify("Queue done: every pair is labelled.")

    def action_move(self, step: int) -> None:
        if not self._queue:
            return
        self._position = max(0, min(len(self._queue) - 1, self._position + step))
        self._show_position()

    def action_rationale(self) -> None:
        self.query_one("#rationale", Input).focus()

    def action_leave_rationale(self) -> None:
        self.query_one(PairView).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "rationale":
            self.query_one(PairView).focus()
