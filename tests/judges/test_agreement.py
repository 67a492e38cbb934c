"""Agreement statistics against values computed by hand, and the stored-label report."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from mosaic_studio.judges.agreement import (
    agreement_report,
    cohen_kappa,
    confusion,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    position_bias,
)
from mosaic_studio.judges.labels import annotator, record_judgment
from mosaic_studio.store.tables import Annotator
from tests.judges.conftest import ANSWER, REFUSE, add_pair, add_trajectory


def test_cohen_kappa_by_hand() -> None:
    a = ["A", "A", "B", "B", "A", "tie"]
    b = ["A", "B", "B", "B", "A", "A"]
    # p_o = 4/6; p_e = (3*3 + 2*3 + 1*0) / 36 = 15/36; kappa = (24/36 - 15/36) / (21/36) = 3/7
    assert percent_agreement(a, b) == pytest.approx(4 / 6)
    assert cohen_kappa(a, b) == pytest.approx(3 / 7)
    assert cohen_kappa(["A", "A"], ["A", "A"]) is None  # no variation: undefined
    assert cohen_kappa(["A", "B"], ["B", "A"]) == pytest.approx(-1.0)
    assert percent_agreement([], []) is None
    with pytest.raises(ValueError, match="different numbers"):
        cohen_kappa(["A"], [])


def test_fleiss_kappa_by_hand() -> None:
    items = [["A", "A", "A"], ["A", "B", "B"], ["B", "B", "tie"]]
    # P_i = 1, 1/3, 1/3 -> P̄ = 5/9; p = (4/9, 4/9, 1/9) -> P_e = 33/81; kappa = 12/48
    assert fleiss_kappa(items) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([["A", "B"], ["A"]])


def test_krippendorff_alpha_by_hand() -> None:
    # coincidences: AA 3, AB 1, BA 1, BB 2, B-tie 1, tie-B 1; n = 9
    # D_o = 4/9, D_e = (2*16 + 2*4 + 2*4) / 72 = 2/3 -> alpha = 1 - (4/9)/(2/3) = 1/3
    assert krippendorff_alpha([["A", "A", "A"], ["A", "B", "B"], ["B", "B", "tie"]]) == (
        pytest.approx(1 / 3)
    )
    # missing ratings: the single-label unit does not count; D_o = 1/2, D_e = 6/12 -> 0
    assert krippendorff_alpha([["A", "A"], ["A", "B"], ["B"]]) == pytest.approx(0.0)
    assert krippendorff_alpha([["A", "A"], ["A", "A"]]) is None


def test_confusion_and_position_bias() -> None:
    table = confusion(["A", "A", "B", "tie"], ["A", "B", "B", "A"])
    assert table["A"] == {"A": 1, "B": 1, "tie": 0, "both_bad": 0}
    assert table["B"]["B"] == 1 and table["tie"]["A"] == 1
    bias = position_bias([("A", "A"), ("B", "A"), ("A", "B"), ("tie", "A"), ("B", "B")])
    assert (bias.left_wins, bias.decisive, bias.rate) == (2, 4, 0.5)
    assert position_bias([("tie", "A")]).rate is None


def test_report_over_stored_labels(session: Session) -> None:
    pairs = []
    for i in range(4):
        a = add_trajectory(session, [ANSWER], scenario_id=f"s{i}")
        b = add_trajectory(session, [REFUSE], scenario_id=f"s{i}")
        pairs.append(add_pair(session, a, b).id or 0)
    alice, bob, carol = (annotator(session, n) for n in ("alice", "bob", "carol"))
    rubric = annotator(session, "rubric", kind="judge")
    labels: list[tuple[Annotator, list[tuple[str, str] | None]]] = [
        (alice, [("A", "A"), ("A", "B"), ("B", "B"), ("tie", "A")]),
        (bob, [("A", "A"), ("B", "A"), ("B", "B"), ("tie", "B")]),
        (carol, [("A", "B"), ("A", "A"), ("B", "A"), None]),
        (rubric, [("A", "A"), ("A", "A"), ("B", "A"), ("abstain", "A")]),
    ]
    for who, given in labels:
        for pair_id, label in zip(pairs, given, strict=True):
            if label is not None:
                record_judgment(session, pair_id, who, label[0], left=label[1])
    report = agreement_report(session)
    hh = report["human_human"]
    assert hh["annotators"] == ["alice", "bob", "carol"]
    alice_bob = next(p for p in hh["pairwise"] if (p["a"], p["b"]) == ("alice", "bob"))
    # alice vs bob: A/A, A/B, B/B, tie/tie -> 3/4; p_e = (2*1 + 1*2 + 1*1)/16 = 5/16
    assert alice_bob["percent"] == pytest.approx(0.75)
    assert alice_bob["cohen_kappa"] == pytest.approx((12 / 16 - 5 / 16) / (11 / 16))
    # Fleiss over the 3 pairs all three labelled: [A,A,A], [A,B,A], [B,B,B]
    # P_i = 1, 1/3, 1 -> 7/9; p = (5/9, 4/9) -> P_e = 41/81; kappa = (63-41)/(81-41) = 22/40
    assert hh["fleiss_kappa"] == pytest.approx(22 / 40)
    (judge,) = report["judge_human"]
    # consensus: s0 A, s1 A (2 of 3), s2 B, s3 tie; the judge abstained on s3 -> 3/3 agree
    assert judge["vs_consensus"]["pairs"] == 3
    assert judge["vs_consensus"]["percent"] == pytest.approx(1.0)
    bias = report["position_bias"]
    assert (bias["alice"]["left_wins"], bias["alice"]["decisive"]) == (2, 3)
    assert bias["rubric"]["rate"] == pytest.approx(2 / 3)
