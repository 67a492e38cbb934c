"""Make pairs by strategy: run the rollouts a strategy needs (or reuse stored ones), pair them.

`make_pairs(strategy, scenarios=(), *, category=None, split=None, model="smollm2",
model_b=None, samples=None, fork_step=1, parent=None, from_store=False, settings=None,
max_steps=None, listener=None, cancel=None, engine=None, **run_options) -> list[Pair]`

Rollouts go through `mosaic_studio.runs.run_scenarios` (stored as they happen); `run_options`
reach `agent.loop.run_group` (tests pass `sandbox_factory` / `grade_fn`).

- `samples`: `samples` (default 2) trajectories of `model` per scenario, paired (0,1), (2,3)…
- `models`: `samples` (default 1) of `model` and of `model_b` per scenario, paired in order.
- `reference`: `samples` (default 1) of `model` per scenario, each paired with the scenario's
  reference good run (replayed for real by the scripted backend once, then reused).
- `references`: the scenario's reference good run against its reference bad run, both replayed
  for real (no model): the act-or-refuse contrast the scenario was written to show.
- `fork`: the parent (`parent`, or the newest finished rollout of `model` on the scenario, run
  first when there is none) is replayed for its first `fork_step` assistant turns in a fresh
  sandbox with the parent's honeytokens, then `model` (default: the parent's) continues;
  each fork is paired with its parent, sharing `fork_step` turns. Forks are stored with
  `source="fork"`, `parent_id` and `fork_step`.
With `from_store`, `samples`/`models`/`reference` pair finished trajectories already stored
(not yet in a pair) instead of running new ones.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mosaic_studio.agent.events import EpisodeListener
from mosaic_studio.judges.pairs import PairError, consecutive, pair_trajectories
from mosaic_studio.judges.render import assistant_indices
from mosaic_studio.judges.strategies import STRATEGIES
from mosaic_studio.models.base import SamplingSettings
from mosaic_studio.store.tables import Pair, Trajectory
from sandboxes.honeytokens import Honeytokens
from sandboxes.scenario import EXTERNAL_TAG, Scenario


def make_pairs(
    strategy: str,
    scenarios: Sequence[str] = (),
    *,
    category: str | None = None,
    split: str | None = None,
    model: str | None = None,
    model_b: str | None = None,
    samples: int | None = None,
    fork_step: int = 1,
    parent: str | None = None,
    from_store: bool = False,
    settings: SamplingSettings | None = None,
    max_steps: int | None = None,
    listener: EpisodeListener | None = None,
    cancel: threading.Event | None = None,
    engine: Engine | None = None,
    **run_options: Any,
) -> list[Pair]:
    """Make pairs with one strategy over the chosen scenarios; see the module docstring."""
    from mosaic_studio.store.db import get_engine

    if strategy not in STRATEGIES:
        raise PairError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    if samples is not None and samples < 1:
        raise PairError(f"--samples must be at least 1 (got {samples})")
    engine = engine or get_engine()
    maker = _Maker(engine, settings, max_steps, listener, cancel, run_options)
    try:
        return _make(
            maker,
            strategy,
            scenarios,
            category=category,
            split=split,
            model=model,
            model_b=model_b,
            samples=samples,
            fork_step=fork_step,
            parent=parent,
            from_store=from_store,
            cancel=cancel,
        )
    finally:
        maker.cleanup()


def _make(
    maker: _Maker,
    strategy: str,
    scenarios: Sequence[str],
    *,
    category: str | None,
    split: str | None,
    model: str | None,
    model_b: str | None,
    samples: int | None,
    fork_step: int,
    parent: str | None,
    from_store: bool,
    cancel: threading.Event | None,
) -> list[Pair]:
    from mosaic_studio.runs import resolve_scenarios

    if strategy == "fork":
        if fork_step < 1:
            raise PairError(f"--fork-step must be at least 1 (got {fork_step})")
        if parent is not None:
            return maker.fork(parent, fork_step, model, samples or 1)
    chosen: list[Scenario] = []
    for ref in scenarios:  # remember how each was named: a file path stays a path
        for scenario in resolve_scenarios([ref], category=category, split=split):
            maker.refs[scenario.id] = str(ref)
            chosen.append(scenario)
    if not scenarios:
        chosen = resolve_scenarios([], category=category, split=split)
    if not chosen:
        raise PairError("none of the named scenarios matches --category/--split")
    pairs: list[Pair] = []
    for scenario in chosen:
        if cancel is not None and cancel.is_set():
            break
        if strategy == "samples":
            ids = maker.rollouts(scenario, model or "smollm2", samples or 2, from_store)
            pairs += maker.store(consecutive(ids), "samples")
        elif strategy == "models":
            if not model_b:
                raise PairError("the models strategy needs --model-b")
            a = maker.rollouts(scenario, model or "smollm2", samples or 1, from_store)
            b = maker.rollouts(scenario, model_b, samples or 1, from_store)
            pairs += maker.store(list(zip(a, b, strict=False)), "models")
        elif strategy == "reference":
            ids = maker.rollouts(scenario, model or "smollm2", samples or 1, from_store)
            good = maker.reference_run(scenario, "good")
            pairs += maker.store([(tid, good) for tid in ids], "reference")
        elif strategy == "references":
            good, bad = maker.reference_run(scenario, "good"), maker.reference_run(scenario, "bad")
            pairs += maker.store([(good, bad)], "references")
        else:
            spec = model or "smollm2"
            found = maker.newest_rollout(scenario, spec)
            parent_id = found or maker.rollouts(scenario, spec, 1, False)[0]
            pairs += maker.fork(parent_id, fork_step, spec, samples or 1)
    return pairs


class _Maker:
    """Runs and finds the trajectories the strategies need."""

    def __init__(
        self,
        engine: Engine,
        settings: SamplingSettings | None,
        max_steps: int | None,
        listener: EpisodeListener | None,
        cancel: threading.Event | None,
        run_options: dict[str, Any],
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.max_steps = max_steps
        self.listener = listener
        self.cancel = cancel
        self.run_options = run_options
        self.refs: dict[str, str] = {}  # scenario id -> how run_scenarios can find it
        self.folders: list[Path] = []

    def cleanup(self) -> None:
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)

    def run(self, scenario: Scenario, spec: str, n: int, **extra: Any) -> list[str]:
        """Run `n` episodes and return the ids of the finished trajectories."""
        from mosaic_studio.runs import run_scenarios

        options = {"max_steps": self.max_steps, **self.run_options, **extra}
        results = run_scenarios(
            [self.refs.get(scenario.id, scenario.id)],
            spec,
            samples=n,
            settings=self.settings,
            listener=self.listener,
            cancel=self.cancel,
            engine=self.engine,
            **options,
        )
        return [r.trajectory_id for r in results if r.status == "finished"]

    def store(self, ids: list[tuple[str, str]], strategy: str, k: int = 0) -> list[Pair]:
        with Session(self.engine) as session:
            pairs = pair_trajectories(session, ids, strategy, shared_prefix_steps=k)
            for pair in pairs:
                session.expunge(pair)
            return pairs

    def _finished(self, scenario_id: str, **where: Any) -> list[Trajectory]:
        with Session(self.engine) as session:
            query = select(Trajectory).where(
                Trajectory.scenario_id == scenario_id, Trajectory.status == "finished"
            )
            for name, value in where.items():
                query = query.where(getattr(Trajectory, name) == value)
            rows = list(session.exec(query.order_by(col(Trajectory.started_at))).all())
            for row in rows:
                session.expunge(row)
            return rows

    def rollouts(self, scenario: Scenario, spec: str, n: int, from_store: bool) -> list[str]:
        if not from_store:
            return self.run(scenario, spec, n)
        with Session(self.engine) as session:
            paired = set(session.exec(select(Pair.trajectory_a_id)).all())
            paired |= set(session.exec(select(Pair.trajectory_b_id)).all())
        rows = self._finished(scenario.id, model_spec=spec, source="rollout")
        ids = [r.id for r in rows if r.id not in paired][:n]
        if len(ids) < n:
            raise PairError(
                f"the store has {len(ids)} unpaired finished trajectories of {spec} on "
                f"{scenario.id}; {n} needed (run without --from-store to make them)"
            )
        return ids

    def newest_rollout(self, scenario: Scenario, spec: str) -> str | None:
        rows = self._finished(scenario.id, model_spec=spec, source="rollout")
        return rows[-1].id if rows else None

    def reference_run(self, scenario: Scenario, which: Literal["good", "bad"]) -> str:
        """The scenario's reference good or bad run: the stored one for this version, or new."""
        from mosaic_studio.store.queries import scenario_version

        with Session(self.engine) as session:
            version = scenario_version(session, scenario).id
        turns = len(getattr(scenario.reference, which))
        stored = self._finished(scenario.id, source=f"reference_{which}")
        same = [
            r.id
            for r in stored
            if r.scenario_version_id == version and len(assistant_indices(r.messages)) == turns
        ]
        if same:
            return same[-1]
        # Every turn of the script, whatever --max-steps the model's rollouts got.
        ids = self.run(scenario, f"reference:{which}", 1, reference=which, max_steps=None)
        if not ids:
            raise PairError(f"the reference {which} run of {scenario.id} did not finish")
        return ids[0]

    def _scenario_of(self, row: Trajectory) -> Scenario:
        """The scenario a stored trajectory ran: the built-in, else its stored version."""
        from mosaic_studio.cli.errors import UserError
        from mosaic_studio.runs import resolve_scenarios
        from mosaic_studio.store.tables import ScenarioVersion

        try:
            return resolve_scenarios([self.refs.get(row.scenario_id, row.scenario_id)])[0]
        except UserError:
            with Session(self.engine) as session:
                version = session.get(ScenarioVersion, row.scenario_version_id or -1)
                body = dict(version.body) if version is not None else None
            if not body:
                raise
        if EXTERNAL_TAG in (body.get("tags") or []):
            raise PairError(
                f"trajectory {row.id} ran in a third-party benchmark's own environment "
                f"({row.scenario_id}), not in a sandbox scenario: it cannot be replayed or forked"
            )
        # A scenario from a file that is gone: replay its stored version from a file of ours.
        folder = Path(tempfile.mkdtemp(prefix="mosaic-fork-"))
        self.folders.append(folder)
        path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', row.scenario_id)}.yaml"
        path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
        self.refs[row.scenario_id] = str(path)
        return resolve_scenarios([str(path)])[0]

    def fork(self, parent_id: str, k: int, spec: str | None, n: int) -> list[Pair]:
        """Fork `parent_id` after `k` assistant turns, `n` times; pair each fork with it."""
        with Session(self.engine) as session:
            parent = session.get(Trajectory, parent_id)
            if parent is None:
                raise PairError(f"no trajectory {parent_id}")
            session.expunge(parent)
        if parent.status != "finished":
            raise PairError(f"trajectory {parent_id} is {parent.status}, not finished")
        messages = [m for m in parent.messages if isinstance(m, dict)]
        turns = [str(messages[i].get("content") or "") for i in assistant_indices(messages)]
        if k >= len(turns):
            raise PairError(
                f"trajectory {parent_id} has {len(turns)} assistant turns: fork at a step "
                f"below that (got --fork-step {k})"
            )
        scenario = self._scenario_of(parent)
        tokens = Honeytokens(
            values={str(k_): str(v) for k_, v in (parent.honeytokens or {}).items()},
            usernames={c.name: c.username for c in scenario.credentials},
        )
        spec = spec or parent.model_spec
        if spec.startswith("reference:"):
            raise PairError(f"{parent_id} is a reference run: name the model to continue (--model)")
        ids = self.run(scenario, spec, n, prefix_turns=turns[:k], tokens=tokens)
        with Session(self.engine) as session:
            for tid in ids:
                row = session.get(Trajectory, tid)
                assert row is not None
                row.source, row.parent_id, row.fork_step = "fork", parent_id, k
                session.add(row)
            session.commit()
        return self.store([(parent_id, tid) for tid in ids], "fork", k)
