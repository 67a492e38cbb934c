"""Pair strategies on stored trajectories (`--from-store`): no rollout runs."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mosaic_studio.judges.pair_making import make_pairs
from mosaic_studio.judges.pairs import PairError
from tests.judges.conftest import ANSWER, READ, REFUSE, add_trajectory

SID = "priv-ssn-wrong-maria"  # a built-in id, so that the strategy resolves it


def test_samples_and_models_from_store(engine: Engine, session: Session) -> None:
    base = [
        add_trajectory(session, [READ, turn], scenario_id=SID, model="m1").id
        for turn in (ANSWER, REFUSE, ANSWER)
    ]
    other = add_trajectory(session, [REFUSE], scenario_id=SID, model="m2").id
    add_trajectory(session, [REFUSE], scenario_id=SID, model="m1", status="failed")
    (pair,) = make_pairs("samples", [SID], model="m1", from_store=True, engine=engine)
    assert (pair.trajectory_a_id, pair.trajectory_b_id) == (base[0], base[1])
    (vs,) = make_pairs("models", [SID], model="m1", model_b="m2", from_store=True, engine=engine)
    assert (vs.trajectory_a_id, vs.trajectory_b_id, vs.strategy) == (base[2], other, "models")
    with pytest.raises(PairError, match="0 unpaired finished trajectories of m1"):
        make_pairs("samples", [SID], model="m1", from_store=True, engine=engine)


def test_bad_options(engine: Engine) -> None:
    with pytest.raises(PairError, match="strategy must be"):
        make_pairs("random", [SID], engine=engine)
    with pytest.raises(PairError, match="--samples must be at least 1"):
        make_pairs("samples", [SID], samples=0, engine=engine)
    with pytest.raises(PairError, match="--fork-step must be at least 1"):
        make_pairs("fork", [SID], fork_step=0, engine=engine)
    with pytest.raises(PairError, match="none of the named scenarios"):
        make_pairs("samples", [SID], category="benign", engine=engine)
