"""Load, validate and list scenario files (TOML or YAML), including the built-in library.

Public API:
- `load_scenario(path) -> Scenario`: parse and validate one file; raises `ScenarioError`.
- `validate_scenario(scenario) -> list[Problem]`: the semantic checks on a parsed scenario.
- `builtin_scenarios(category=None, split=None) -> list[Scenario]`: the shipped library.
- `get_scenario(id_or_path) -> Scenario`: a built-in by id, or a file by path.

`ScenarioError` names the file, the field (a dotted path such as `checks[2].kind`) and the
reason; `.problems` holds every problem found, as `Problem(field, reason)` pairs.
"""

from __future__ import annotations

import difflib
import functools
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from sandboxes.scenario import CATEGORIES, SPLITS, Scenario
from sandboxes.scenario_validation import Problem, semantic_problems

LIBRARY_DIR = Path(__file__).with_name("library")
SUFFIXES = (".toml", ".yaml", ".yml")
MAX_FILE_BYTES = 1_000_000

__all__ = [
    "LIBRARY_DIR",
    "Problem",
    "ScenarioError",
    "builtin_scenarios",
    "get_scenario",
    "load_scenario",
    "parse_scenario",
    "validate_scenario",
]


class ScenarioError(ValueError):
    """A scenario file is unreadable or invalid: says which file, which field, and why."""

    def __init__(self, file: str, problems: Iterable[Problem]) -> None:
        self.file = file
        self.problems = list(problems) or [Problem("(file)", "invalid scenario")]
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{file}: {first.field}: {first.reason}{more}")

    @property
    def field(self) -> str:
        return self.problems[0].field

    @property
    def reason(self) -> str:
        return self.problems[0].reason

    def lines(self) -> list[str]:
        """One `file: field: reason` line per problem."""
        return [f"{self.file}: {p.field}: {p.reason}" for p in self.problems]


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors/aliases: an alias bomb would make validation explode."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in scenario files", event.start_mark
            )
        return super().compose_node(parent, index)


def _parse_text(text: str, suffix: str) -> Any:
    if suffix == ".toml":
        return tomllib.loads(text)
    return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass


def _loc_to_field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _pydantic_problems(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        field = _loc_to_field(tuple(item.get("loc", ())))
        kind = item.get("type", "")
        if kind == "missing":
            reason = "required field is missing"
        elif kind == "extra_forbidden":
            reason = "unknown field (check its spelling)"
        else:
            reason = str(item.get("msg", "invalid value"))
            got = item.get("input")
            if kind.endswith("_type") or kind in ("literal_error", "enum"):
                reason += f" (got {type(got).__name__} {_short(got)})"
        problems.append(Problem(field, reason))
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_scenario(data: Any, file: str = "<scenario>") -> Scenario:
    """Validate already-parsed data (a mapping) into a Scenario; raises `ScenarioError`."""
    if not isinstance(data, dict):
        got = type(data).__name__
        raise ScenarioError(
            file, [Problem("(top level)", f"expected a table of fields, got {got}")]
        )
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise ScenarioError(file, [Problem(repr(bad_keys[0]), "field names must be text")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(file, _pydantic_problems(exc)) from None
    except (RecursionError, TypeError, ValueError) as exc:  # pathological nesting or types
        raise ScenarioError(
            file, [Problem("(top level)", f"unreadable structure: {exc}")]
        ) from None
    problems = validate_scenario(scenario)
    if problems:
        raise ScenarioError(file, problems)
    return scenario


def validate_scenario(scenario: Scenario) -> list[Problem]:
    """Semantic problems of a parsed scenario (empty when it is valid)."""
    return semantic_problems(scenario)


def load_scenario(path: str | Path) -> Scenario:
    """Read one TOML or YAML scenario file, validate it, and return the Scenario."""
    path = Path(path)
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        expected = ", ".join(SUFFIXES)
        raise ScenarioError(file, [Problem("(file)", f"unknown file type; expected {expected}")])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(file, [Problem("(file)", f"cannot read: {exc.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        reason = f"file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES}"
        raise ScenarioError(file, [Problem("(file)", reason)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte {exc.start})"
        raise ScenarioError(file, [Problem("(file)", reason)]) from None
    try:
        data = _parse_text(text, ".toml" if suffix == ".toml" else ".yaml")
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(file, [Problem("(syntax)", f"invalid TOML: {exc}")]) from None
    except yaml.YAMLError as exc:
        reason = f"invalid YAML: {' '.join(str(exc).split())}"
        raise ScenarioError(file, [Problem("(syntax)", reason)]) from None
    except RecursionError:
        raise ScenarioError(file, [Problem("(syntax)", "nested too deeply")]) from None
    return parse_scenario(data, file)


class _Library(NamedTuple):
    scenarios: tuple[Scenario, ...]
    by_id: dict[str, Scenario]


@functools.lru_cache(maxsize=1)
def _library() -> _Library:
    scenarios: list[Scenario] = []
    by_id: dict[str, Scenario] = {}
    for path in sorted(LIBRARY_DIR.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        scenario = load_scenario(path)
        if path.parent.name != scenario.category or path.stem != scenario.id:
            reason = f"must live at library/{scenario.category}/{scenario.id}{path.suffix}"
            raise ScenarioError(str(path), [Problem("id", reason)])
        if scenario.id in by_id:
            raise ScenarioError(str(path), [Problem("id", f"duplicate id {scenario.id!r}")])
        by_id[scenario.id] = scenario
        scenarios.append(scenario)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    scenarios.sort(key=lambda s: (order[s.category], SPLITS.index(s.split), s.id))
    return _Library(tuple(scenarios), by_id)


def builtin_scenarios(category: str | None = None, split: str | None = None) -> list[Scenario]:
    """The shipped scenarios, optionally only one category and/or split."""
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    return [
        s
        for s in _library().scenarios
        if (category is None or s.category == category) and (split is None or s.split == split)
    ]


def get_scenario(id_or_path: str | Path) -> Scenario:
    """A built-in scenario by id, or a scenario file by path."""
    text = str(id_or_path)
    path = Path(text)
    if path.suffix.lower() in SUFFIXES or path.exists():
        return load_scenario(path)
    found = _library().by_id.get(text)
    if found is not None:
        return found
    close = difflib.get_close_matches(text, list(_library().by_id), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see `mosaic scenarios list`"
    raise ScenarioError(text, [Problem("id", f"no built-in scenario or file by that name{hint}")])
