"""Renders `mosaic_studio.judges.agreement.agreement_report` as text."""

from __future__ import annotations

from typing import Any

from rich.text import Text


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def agreement_text(report: dict[str, Any]) -> Text:
    """Judge–human agreement first, then human–human, then position bias."""
    out = Text()
    out.append("Agreement\n", style="bold")
    judges = report.get("judge_human") or []
    if not judges:
        out.append("  no judge has labelled pairs yet\n", style="dim")
    for entry in judges:
        consensus = entry.get("vs_consensus") or {}
        out.append(f"  {entry.get('judge')}", style="bold #d7a6f0")
        out.append(
            f" vs humans: {consensus.get('pairs', 0)} pairs · agree "
            f"{_pct(consensus.get('percent'))} · κ {_num(consensus.get('cohen_kappa'))}\n"
        )
        for each in entry.get("vs_each") or []:
            if each.get("pairs"):
                out.append(
                    f"    vs {each.get('human')}: {each['pairs']} pairs · "
                    f"{_pct(each.get('percent'))} · κ {_num(each.get('cohen_kappa'))}\n",
                    style="dim",
                )
    humans = report.get("human_human") or {}
    names = humans.get("annotators") or []
    out.append(f"  humans: {', '.join(names) if names else 'none yet'}")
    if humans.get("pairs_by_several"):
        out.append(
            f" · {humans['pairs_by_several']} pairs by several · α "
            f"{_num(humans.get('krippendorff_alpha'))}"
        )
    out.append("\nPosition bias (left side wins)\n", style="bold")
    for name, bias in sorted((report.get("position_bias") or {}).items()):
        out.append(
            f"  {name} ({bias.get('kind')}): {_pct(bias.get('rate'))} of "
            f"{bias.get('decisive', 0)} decisive\n"
        )
    return out
