"""The Label area: keys label the pair shown, each label is a committed Judgment, undo works."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mosaic_studio.store.tables import Annotator, Judgment
from mosaic_studio.tui.app import MosaicApp
from mosaic_studio.tui.label.align import MAX_ROWS, SHARED_CONTEXT
from mosaic_studio.tui.label.annotator import AnnotatorPrompt
from mosaic_studio.tui.label.pair_view import AlignedRow, PairView
from mosaic_studio.tui.label.screen import LabelScreen
from mosaic_studio.tui.settings import AppSettings
from tests.tui import seed
from tests.tui.seed import Seeded

SIZE = (140, 44)


def _judgments(engine: Engine) -> list[Judgment]:
    with Session(engine) as session:
        return list(session.exec(select(Judgment).order_by(col(Judgment.id))).all())


async def _open_label(app: MosaicApp, pilot: object) -> LabelScreen:
    await app.workers.wait_for_complete()
    await pilot.press("f3")  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    screen = app.screen
    assert isinstance(screen, LabelScreen)
    return screen


async def test_annotator_is_asked_once_and_remembered(
    app_factory: Callable[..., MosaicApp], seeded: Seeded, home: Path
) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, AnnotatorPrompt)
        await pilot.press(*"grace", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, LabelScreen)
        assert app.screen.annotator_name == "grace"
    assert AppSettings.load(home / "settings.json").annotator == "grace"
    again = app_factory()
    async with again.run_test(size=SIZE) as pilot:
        screen = await _open_label(again, pilot)
        assert screen.annotator_name == "grace"


async def test_label_keys_commit_judgments_and_undo_retracts(
    app_factory: Callable[..., MosaicApp], seeded: Seeded, engine: Engine, home: Path
) -> None:
    AppSettings(annotator="ada").save(home / "settings.json")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_label(app, pilot)
        first = screen._current
        assert first is not None and first.pair.id in seeded.pair_ids
        left = screen._left_side[first.pair.id]
        await pilot.press("r", *"keys leave", "enter", "a")  # rationale, then prefer left
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        rows = _judgments(engine)
        assert len(rows) == 1
        assert rows[0].pair_id == first.pair.id
        assert rows[0].choice == left  # the left side is stored as the winner
        assert rows[0].left == left
        assert rows[0].rationale == "keys leave"
        assert not rows[0].retracted
        with Session(engine) as session:
            who = session.get(Annotator, rows[0].annotator_id)
            assert who is not None and who.name == "ada" and who.kind == "human"
        second = screen._current
        assert second is not None and second.pair.id != first.pair.id
        assert "labelled 1" in str(screen.query_one("#label-progress").render())

        await pilot.press("u")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        rows = _judgments(engine)
        assert rows[0].retracted
        assert screen._current is not None and screen._current.pair.id == first.pair.id
        assert "labelled 0" in str(screen.query_one("#label-progress").render())

        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [j.choice for j in _judgments(engine) if not j.retracted] == ["tie"]


async def test_first_divergence_is_highlighted_and_sides_are_shuffled(
    app_factory: Callable[..., MosaicApp], seeded: Seeded, home: Path
) -> None:
    AppSettings(annotator="ada").save(home / "settings.json")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_label(app, pilot)
        view = screen.query_one(PairView)
        diverged = [row for row in screen.query(AlignedRow) if row.has_class("diverged")]
        assert len(diverged) == 1
        # both harmful trajectories start with the same plan; they part at step 1
        assert view.divergence == 1 and diverged[0].index == 1
        for _ in range(len(seeded.pair_ids)):
            await pilot.press("n")
            await app.workers.wait_for_complete()
            await pilot.pause()
        # every pair shown got a side drawn at random, kept when it is shown again
        assert screen._left_side.keys() == set(seeded.pair_ids)
        assert set(screen._left_side.values()) <= {"A", "B"}


async def test_skip_and_next_previous(
    app_factory: Callable[..., MosaicApp], seeded: Seeded, engine: Engine, home: Path
) -> None:
    AppSettings(annotator="ada").save(home / "settings.json")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_label(app, pilot)
        assert screen._position == 0
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen._position == 1
        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen._position == 0
        await pilot.press("s", "b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert sorted(j.choice for j in _judgments(engine)) == ["both_bad", "skip"]
        assert screen._current is None
        assert "every pair is labelled" not in str(screen.query_one("#label-progress").render())


async def test_a_long_fork_shows_its_divergence_with_the_shared_prefix_folded(
    app_factory: Callable[..., MosaicApp], engine: Engine, home: Path
) -> None:
    pair_id = seed.add_long_fork_pair(engine, shared=400, tail=300)
    AppSettings(annotator="ada").save(home / "settings.json")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_label(app, pilot)
        assert screen._current is not None and screen._current.pair.id == pair_id
        view = screen.query_one(PairView)
        rows = list(screen.query(AlignedRow))
        assert view.divergence == 400
        assert rows[0].index == 400 - SHARED_CONTEXT and len(rows) == MAX_ROWS
        notes = [str(n.render()) for n in screen.query(".pair-note")]
        assert notes[0].startswith(f"… {400 - SHARED_CONTEXT} identical steps")
        assert notes[-1].startswith(f"… {700 - (400 - SHARED_CONTEXT) - MAX_ROWS} more steps")
        diverged = next(r for r in rows if r.has_class("diverged"))
        assert view.region.y <= diverged.region.y < view.region.bottom  # in view


async def test_sides_are_drawn_at_random_and_the_shown_order_is_stored(
    app_factory: Callable[..., MosaicApp], engine: Engine, home: Path
) -> None:
    pair_ids = seed.add_simple_pairs(engine, 8)
    AppSettings(annotator="ada").save(home / "settings.json")
    app = app_factory(seed=3)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_label(app, pilot)
        for _ in pair_ids:
            await pilot.press("a")  # prefer left, whichever trajectory that is
            await app.workers.wait_for_complete()
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert screen._current is None
    rows = _judgments(engine)
    assert sorted(r.pair_id for r in rows) == pair_ids
    assert {r.left for r in rows} == {"A", "B"}  # both orders were shown
    assert all(r.choice == r.left for r in rows)  # "prefer left" names the side shown left
