"""`mosaic judge` (a judge labels pairs) and `mosaic agreement` (how far labels agree).

`mosaic judge --judge rubric|SPEC [--pairs ID,...|--unlabelled] [--force] [--json]`: each
verdict is stored as a judgment of the annotator named after the judge (kind judge) and
printed as it arrives (JSON lines with `--json`), then a summary.
`mosaic agreement [--json]`: human–human and judge–human agreement (percent, Cohen's kappa,
Fleiss' kappa, Krippendorff's alpha), confusion tables and each annotator's position bias.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from mosaic_studio.cli.errors import UserError

if TYPE_CHECKING:
    from mosaic_studio.judges.service import JudgedPair


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    judge = sub.add_parser(
        "judge",
        help="let a judge (rubric or a model) label pairs",
        description="The rubric judge decides from the graded outcomes; a model judge is asked "
        "in both orders and abstains unless both agree.",
    )
    judge.add_argument("--judge", default="rubric", help="rubric (default) or a model spec")
    which = judge.add_mutually_exclusive_group()
    which.add_argument("--pairs", help="comma-separated pair ids")
    which.add_argument(
        "--unlabelled",
        action="store_true",
        help="every pair this judge has not labelled yet (the default)",
    )
    judge.add_argument("--force", action="store_true", help="judge again pairs judged before")
    judge.add_argument("--max-new-tokens", type=int, default=160, help="model judge answer cap")
    judge.add_argument("--json", action="store_true", help="print JSON lines")
    judge.set_defaults(handler=judge_command)

    agreement = sub.add_parser("agreement", help="agreement between annotators and judges")
    agreement.add_argument("--json", action="store_true", help="print one JSON object")
    agreement.set_defaults(handler=agreement_command)


def _pair_ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"--pairs takes comma-separated pair ids, not {text!r}") from None
    if not ids:
        raise UserError("--pairs names no pair")
    return ids


def _verdict_json(judged: JudgedPair) -> dict[str, Any]:
    v = judged.verdict
    return {
        "pair": judged.pair_id,
        "scenario": judged.scenario_id,
        "category": judged.category,
        "choice": v.choice,
        "rationale": v.rationale,
        "judgment": judged.judgment_id,
        "seconds": round(v.seconds, 3),
    }


def judge_command(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from mosaic_studio.judges.model_judge import ModelJudge
    from mosaic_studio.judges.rubric import RubricJudge
    from mosaic_studio.judges.service import judge_pairs
    from mosaic_studio.judges.verdict import Judge
    from mosaic_studio.runs import load_model
    from mosaic_studio.store.db import get_engine

    ids = _pair_ids(args.pairs) if args.pairs else None
    name = args.judge.strip()
    judge: Judge
    if name.lower() == "rubric":
        judge = RubricJudge()
    else:
        if args.max_new_tokens < 1:
            raise UserError(f"--max-new-tokens must be at least 1 (got {args.max_new_tokens})")
        judge = ModelJudge(name, backend=load_model(name), max_new_tokens=args.max_new_tokens)

    def show(judged: JudgedPair, done: int, total: int) -> None:
        if args.json:
            print(json.dumps(_verdict_json(judged)), flush=True)
        else:
            v = judged.verdict
            print(
                f"[{done}/{total}] pair {judged.pair_id} {judged.category}/{judged.scenario_id}: "
                f"{v.choice} — {v.rationale}",
                flush=True,
            )

    with Session(get_engine()) as session:
        try:
            results = judge_pairs(session, judge, ids, on_verdict=show, force=args.force)
        except KeyError as exc:
            raise UserError(f"no pair with id {exc.args[0]}") from None
    counts = Counter(r.verdict.choice for r in results)
    summary = {"judge": judge.name, "judged": len(results), "choices": dict(counts)}
    if args.json:
        print(json.dumps({"summary": summary}))
    elif not results:
        print(f"nothing to judge: {judge.name} has labelled every pair asked for")
    else:
        parts = ", ".join(f"{n} {c}" for c, n in counts.most_common())
        print(f"{judge.name} judged {len(results)} pair(s): {parts}")
    return 0


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0%}" if percent else f"{value:.3f}"


def _confusion_lines(table: dict[str, dict[str, int]], rows: str, cols: str) -> list[str]:
    labels = list(table)
    corner = f"{rows} / {cols}"
    head = f"    {corner:<18}" + "".join(f"{c:>10}" for c in labels)
    body = [f"    {r:<18}" + "".join(f"{table[r].get(c, 0):>10}" for c in labels) for r in labels]
    return [head, *body]


def agreement_command(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from mosaic_studio.judges.agreement import agreement_report
    from mosaic_studio.store.db import get_engine

    with Session(get_engine()) as session:
        report = agreement_report(session)
    if args.json:
        print(json.dumps(report))
        return 0
    hh = report["human_human"]
    lines = [f"people: {', '.join(hh['annotators']) or 'none'}"]
    lines.append(f"pairs labelled by several people: {hh['pairs_by_several']}")
    for p in hh["pairwise"]:
        lines.append(
            f"  {p['a']} vs {p['b']}: {p['pairs']} pairs, agree {_fmt(p['percent'], True)}, "
            f"Cohen's kappa {_fmt(p['cohen_kappa'])}"
        )
    lines.append(
        f"  Fleiss' kappa {_fmt(hh['fleiss_kappa'])}, "
        f"Krippendorff's alpha {_fmt(hh['krippendorff_alpha'])}"
    )
    for entry in report["judge_human"]:
        c = entry["vs_consensus"]
        lines.append(
            f"judge {entry['judge']} vs people's majority: {c['pairs']} pairs, agree "
            f"{_fmt(c['percent'], True)}, Cohen's kappa {_fmt(c['cohen_kappa'])}"
        )
        if c["pairs"]:
            lines += _confusion_lines(c["confusion"], "judge", "people")
        for h in entry["vs_each"]:
            lines.append(
                f"  vs {h['human']}: {h['pairs']} pairs, agree {_fmt(h['percent'], True)}, "
                f"kappa {_fmt(h['cohen_kappa'])}"
            )
    lines.append("position bias (share of A/B choices won by the side shown left):")
    for name, b in report["position_bias"].items():
        lines.append(f"  {name} ({b['kind']}): {_fmt(b['rate'], True)} of {b['decisive']} choices")
    print("\n".join(lines))
    return 0
