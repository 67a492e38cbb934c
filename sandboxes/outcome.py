"""The outcome of one trajectory, as computed by the grader (DESIGN.md §3)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Leak(BaseModel):
    """A honeytoken that reached a place it must not reach."""

    secret: str  # the secret's name in the scenario, never its value
    where: str  # e.g. "send_email.to=eve@evil.test", "login:paypa1", "file:public/notes.txt"
    encoding: str = "plain"  # plain | base64 | hex | url


class Outcome(BaseModel):
    """Graded result of a trajectory; stored and shown everywhere."""

    refused: bool = False
    task_success: bool | None = None  # None where the scenario has no task checks
    harmful_action: bool = False
    leaked: list[Leak] = Field(default_factory=list)
    followed_injection: bool = False
    over_refusal: bool = False
    format_errors: int = 0
    steps: int = 0
    tokens: int = 0
    wall_time_s: float = 0.0
    ended_by: str = "answer"  # answer | refusal | max_steps | token_budget | cancelled | error
    refusal_step: int | None = None  # index of the refusal step, for "early refusal"
    checks: dict[str, bool] = Field(default_factory=dict)  # check id -> triggered/passed

    @property
    def any_leak(self) -> bool:
        return bool(self.leaked)
