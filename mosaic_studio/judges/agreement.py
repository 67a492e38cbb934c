"""Agreement between annotators: pure statistics, and the report `mosaic agreement` prints.

Pure functions on label lists: `percent_agreement`, `cohen_kappa` (two raters),
`fleiss_kappa` (any number of raters, the same number per item), `krippendorff_alpha`
(nominal, missing ratings allowed), `confusion`, `position_bias` (how often the side shown
on the left wins). A kappa/alpha is None where it is undefined (no variation at all).
`agreement_report(session)` applies them to the stored labels: human–human and judge–human
over pairs labelled by both (each annotator's newest live label, decisive choices only).
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session

from mosaic_studio.judges.labels import DECISIVE, Label, current_labels


def percent_agreement(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Share of items where both raters gave the same label (None without items)."""
    _same_length(a, b)
    if not a:
        return None
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters over the same items."""
    _same_length(a, b)
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in count_a) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def fleiss_kappa(items: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' kappa: `items[i]` holds the labels the raters gave item i (same count each)."""
    items = [list(item) for item in items]
    if not items:
        return None
    raters = len(items[0])
    if raters < 2 or any(len(item) != raters for item in items):
        raise ValueError("Fleiss' kappa needs the same number (≥ 2) of ratings per item")
    total = Counter(label for item in items for label in item)
    n_ratings = len(items) * raters
    p_bar = sum(
        (sum(c * c for c in Counter(item).values()) - raters) / (raters * (raters - 1))
        for item in items
    ) / len(items)
    p_expected = sum((c / n_ratings) ** 2 for c in total.values())
    if p_expected >= 1.0:
        return None
    return (p_bar - p_expected) / (1.0 - p_expected)


def krippendorff_alpha(units: Sequence[Sequence[str]]) -> float | None:
    """Krippendorff's alpha, nominal: `units[i]` holds whatever labels item i received."""
    pairable = [list(u) for u in units if len(u) >= 2]
    coincidence: defaultdict[tuple[str, str], float] = defaultdict(float)
    for unit in pairable:
        m = len(unit)
        for i, j in itertools.permutations(range(m), 2):
            coincidence[(unit[i], unit[j])] += 1.0 / (m - 1)
    marginals: defaultdict[str, float] = defaultdict(float)
    for (c, _k), value in coincidence.items():
        marginals[c] += value
    n = sum(marginals.values())
    if n <= 1:
        return None
    disagree_observed = sum(v for (c, k), v in coincidence.items() if c != k) / n
    disagree_expected = sum(
        marginals[c] * marginals[k] for c in marginals for k in marginals if c != k
    ) / (n * (n - 1))
    if disagree_expected == 0:
        return None
    return 1.0 - disagree_observed / disagree_expected


def confusion(
    a: Sequence[str], b: Sequence[str], labels: Sequence[str] = DECISIVE
) -> dict[str, dict[str, int]]:
    """Counts by (label of a, label of b); rows are a's labels, columns b's."""
    _same_length(a, b)
    table = {x: dict.fromkeys(labels, 0) for x in labels}
    for x, y in zip(a, b, strict=True):
        table.setdefault(x, dict.fromkeys(labels, 0)).setdefault(y, 0)
        table[x][y] += 1
    return table


@dataclass(frozen=True)
class PositionBias:
    """How often the trajectory shown on the left won, among A/B choices."""

    left_wins: int
    decisive: int

    @property
    def rate(self) -> float | None:
        return self.left_wins / self.decisive if self.decisive else None


def position_bias(choices: Sequence[tuple[str, str]]) -> PositionBias:
    """`choices` are (choice, left) pairs; ties, both-bad and abstentions do not count."""
    decided = [(c, left) for c, left in choices if c in ("A", "B")]
    return PositionBias(sum(c == left for c, left in decided), len(decided))


def _same_length(a: Sequence[str], b: Sequence[str]) -> None:
    if len(a) != len(b):
        raise ValueError(f"the raters label different numbers of items ({len(a)} vs {len(b)})")


def _two_raters(first: dict[int, str], second: dict[int, str]) -> dict[str, Any]:
    shared = sorted(set(first) & set(second))
    a = [first[p] for p in shared]
    b = [second[p] for p in shared]
    return {
        "pairs": len(shared),
        "percent": percent_agreement(a, b),
        "cohen_kappa": cohen_kappa(a, b),
        "confusion": confusion(a, b),
    }


def _majority(labels: list[str]) -> str | None:
    counts = Counter(labels).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def agreement_report(session: Session) -> dict[str, Any]:
    """Human–human and judge–human agreement, and each annotator's position bias."""
    by_annotator: dict[str, dict[int, str]] = {}
    kinds: dict[str, str] = {}
    all_labels: list[Label] = [
        label for per_pair in current_labels(session).values() for label in per_pair.values()
    ]
    for label in all_labels:
        kinds[label.annotator] = label.kind
        if label.choice in DECISIVE:
            by_annotator.setdefault(label.annotator, {})[label.pair_id] = label.choice
    humans = sorted(n for n, k in kinds.items() if k == "human" and n in by_annotator)
    judges = sorted(n for n, k in kinds.items() if k == "judge" and n in by_annotator)

    human_pairs = [
        {"a": x, "b": y, **_two_raters(by_annotator[x], by_annotator[y])}
        for x, y in itertools.combinations(humans, 2)
    ]
    units: dict[int, list[str]] = {}
    for name in humans:
        for pair_id, choice in by_annotator[name].items():
            units.setdefault(pair_id, []).append(choice)
    by_all = [u for u in units.values() if len(u) == len(humans)]
    human_human = {
        "annotators": humans,
        "pairwise": [p for p in human_pairs if p["pairs"]],
        "pairs_by_several": sum(len(u) >= 2 for u in units.values()),
        "fleiss_kappa": fleiss_kappa(by_all) if len(humans) > 2 and by_all else None,
        "krippendorff_alpha": krippendorff_alpha(list(units.values())),
    }
    consensus = {p: m for p, u in units.items() if (m := _majority(u)) is not None}
    judge_human = []
    for judge in judges:
        entry: dict[str, Any] = {
            "judge": judge,
            "vs_consensus": _two_raters(by_annotator[judge], consensus),
        }
        entry["vs_each"] = [
            {"human": h, **_two_raters(by_annotator[judge], by_annotator[h])} for h in humans
        ]
        judge_human.append(entry)
    bias = {}
    for name in sorted(kinds):
        mine = [(lb.choice, lb.left) for lb in all_labels if lb.annotator == name]
        result = position_bias(mine)
        bias[name] = {**asdict(result), "rate": result.rate, "kind": kinds[name]}
    return {"human_human": human_human, "judge_human": judge_human, "position_bias": bias}
