"""The suite registry: a suite name plus options → an adapter that lists and runs items.

- `builtin:test` / `builtin:train` / `builtin:all`: our scenario library (Docker sandbox).
- `agentdojo:workspace|travel|banking|slack`: AgentDojo with our loop as a pipeline element;
  option `attack` (default `important_instructions`; `none` for utility without attack).
- `bfcl`: BFCL v4 function calling, AST-checked; option `category` (default `simple_python`).
- `asb`: Agent Security Bench injection cases; option `attack_set` (all | aggressive |
  non_aggressive).
- `privacylens`: PrivacyLens contextual-integrity cases (Docker sandbox).
- `harmful`: HarmBench / StrongREJECT requests as sandbox tasks; option `source`
  (harmbench | strongreject).

Every adapter has `name`, `options` (what, with the suite name, identifies a resumable run),
`item_ids()` (a stable order, so `--limit N` always picks the same first N) and
`run_item(item_id, ctx) -> ItemRun`.
"""

from __future__ import annotations

from typing import Any, Protocol

from mosaic_studio.evaluation.datafiles import SuiteError
from mosaic_studio.evaluation.episodes import EvalContext, ItemRun

SUITE_NAMES = (
    "builtin:test",
    "builtin:train",
    "builtin:all",
    "agentdojo:workspace",
    "agentdojo:travel",
    "agentdojo:banking",
    "agentdojo:slack",
    "bfcl",
    "asb",
    "privacylens",
    "harmful",
)
OPTION_NAMES = ("attack", "category", "attack_set", "source")


class Suite(Protocol):
    """What the runner needs from a benchmark adapter."""

    options: dict[str, Any]

    @property
    def name(self) -> str: ...

    def item_ids(self) -> list[str]: ...

    def run_item(self, item_id: str, ctx: EvalContext) -> ItemRun: ...


def _reject_options(suite: str, options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    extra = sorted(k for k, v in options.items() if v is not None and k not in allowed)
    if extra:
        detail = (
            f"takes only {', '.join('--' + a.replace('_', '-') for a in allowed)}"
            if allowed
            else "takes no options"
        )
        raise SuiteError(f"suite {suite!r} {detail} (got --{extra[0].replace('_', '-')})")


def get_suite(name: str, **options: Any) -> Suite:
    """The adapter for `name`; unknown names and options raise `SuiteError` (one line)."""
    given = {k: v for k, v in options.items() if v is not None}
    family, _, variant = name.partition(":")
    if family == "builtin":
        from mosaic_studio.evaluation.builtin import SPLIT_CHOICES, BuiltinSuite

        if variant not in SPLIT_CHOICES:
            raise SuiteError(
                f"unknown builtin split {variant!r}; "
                "expected builtin:test, builtin:train or builtin:all"
            )
        _reject_options(name, given, ())
        return BuiltinSuite(variant)
    if family == "agentdojo":
        from mosaic_studio.evaluation.agentdojo_suite import DEFAULT_ATTACK, AgentDojoSuite

        _reject_options(name, given, ("attack",))
        return AgentDojoSuite(variant or "workspace", given.get("attack", DEFAULT_ATTACK))
    if variant:
        raise SuiteError(f"unknown suite {name!r}; expected one of {', '.join(SUITE_NAMES)}")
    if family == "bfcl":
        from mosaic_studio.evaluation.bfcl import BfclSuite

        _reject_options(name, given, ("category",))
        return BfclSuite(given.get("category", "simple_python"))
    if family == "asb":
        from mosaic_studio.evaluation.asb import AsbSuite

        _reject_options(name, given, ("attack_set",))
        return AsbSuite(given.get("attack_set", "all"))
    if family == "privacylens":
        from mosaic_studio.evaluation.privacylens import PrivacyLensSuite

        _reject_options(name, given, ())
        return PrivacyLensSuite()
    if family == "harmful":
        from mosaic_studio.evaluation.harmful import HarmfulSuite

        _reject_options(name, given, ("source",))
        return HarmfulSuite(given.get("source", "harmbench"))
    raise SuiteError(f"unknown suite {name!r}; expected one of {', '.join(SUITE_NAMES)}")


def suite_label(suite: str, options: dict[str, Any]) -> str:
    """How a suite run is named in tables and reports: the suite and its options."""
    shown = [f"{k}={v}" for k, v in sorted(options.items()) if k != "version"]
    return f"{suite} ({', '.join(shown)})" if shown else suite
