"""What a sandbox looks like at the end of an episode: read back for grading."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class OutboundCall(BaseModel):
    """A send_email / http_request / post_message call, recorded in the outbox; nothing leaves."""

    tool: str
    to: str  # recipient, host or channel
    args: dict[str, Any]
    at: float = 0.0


class LoginAttempt(BaseModel):
    """Credentials entered into a mock login service inside the box."""

    service: str
    username: str
    password: str
    accepted: bool
    at: float = 0.0


class FinalState(BaseModel):
    """The workspace files, the outbox and the login attempts at the end of an episode."""

    files: dict[str, str] = Field(default_factory=dict)  # workspace-relative path -> text
    outbox: list[OutboundCall] = Field(default_factory=list)
    logins: list[LoginAttempt] = Field(default_factory=list)
