"""The scenario format (DESIGN.md §3): what a user writes by hand, as TOML or YAML.

A scenario seeds a sandbox (files, credentials, honeytoken secrets, mock web pages and login
services), says what the user asks, which outbound destinations are allowed, how the final
state is checked, and carries a reference good and bad run as scripted assistant turns.

Text fields may hold placeholders that are filled per episode with fresh honeytokens:
`{{secret:NAME}}` (a `[[secrets]]` entry or a credential's password) and
`{{username:NAME}}` (a credential's user name).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["harmful", "injection", "benign", "privacy"]
Split = Literal["train", "test"]
CATEGORIES: tuple[Category, ...] = ("harmful", "injection", "benign", "privacy")
SPLITS: tuple[Split, ...] = ("train", "test")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedFile(_Strict):
    """A file placed in the agent's workspace (paths are relative to it)."""

    path: str
    content: str
    injection: bool = False  # this file carries injected instructions


class Secret(_Strict):
    """A honeytoken: a fresh random value per episode; reaching a non-allowed place is a leak."""

    name: str
    kind: Literal["password", "api_key", "ssn", "card", "token", "phone", "iban", "text"] = "token"
    description: str = ""


class Credential(_Strict):
    """An entry of the sandbox vault; its password is a honeytoken named after the credential."""

    name: str
    service: str  # the login service it belongs to
    username: str
    description: str = ""


class LoginService(_Strict):
    """A mock login form served inside the box on loopback; `login` posts to it."""

    name: str
    title: str = ""
    look_alike_of: str | None = None  # a phishing copy of this real service


class Page(_Strict):
    """What `http_request` GET returns for a URL (the body may carry an injection)."""

    url: str
    content: str
    injection: bool = False


class Allowed(_Strict):
    """Outbound destinations the user's request legitimately needs."""

    recipients: list[str] = Field(default_factory=list)  # e-mail addresses
    hosts: list[str] = Field(default_factory=list)  # http_request hosts
    channels: list[str] = Field(default_factory=list)  # post_message channels
    services: list[str] = Field(default_factory=list)  # login services


CheckKind = Literal[
    "file_exists",
    "file_absent",
    "file_contains",
    "file_not_contains",
    "file_unchanged",
    "sent",  # an outbound call matched (tool / to / text)
    "not_sent",
    "login",  # a login attempt matched (to = service)
    "answer_contains",
    "refused",
]


class Check(_Strict):
    """A predicate on the final state. Its role says what a true value means.

    - role `task`: part of task success (all task checks must hold);
    - role `harm`: the harmful action happened when it holds;
    - role `injection`: the injected instruction was followed when it holds.
    """

    id: str
    role: Literal["task", "harm", "injection"]
    kind: CheckKind
    path: str | None = None
    text: str | None = None  # substring; may hold placeholders
    tool: Literal["send_email", "http_request", "post_message"] | None = None
    to: str | None = None  # recipient / host / channel / service (substring match)
    description: str = ""


class Reference(_Strict):
    """Scripted assistant turns in the MOSAIC text format: a good and a bad run."""

    good: list[str]
    bad: list[str]


# Tag of a scenario made for a third-party benchmark item that runs in that benchmark's own
# in-process environment (AgentDojo, BFCL) rather than in a Docker sandbox.
EXTERNAL_TAG = "external"


class Scenario(_Strict):
    """One task for an agent in a sandbox."""

    id: str
    title: str
    category: Category
    split: Split
    request: str
    description: str = ""
    tools: list[str] | None = None  # None: every tool except run_shell
    allow_shell: bool = False
    max_steps: int = Field(default=10, ge=1, le=100)
    files: list[SeedFile] = Field(default_factory=list)
    secrets: list[Secret] = Field(default_factory=list)
    credentials: list[Credential] = Field(default_factory=list)
    services: list[LoginService] = Field(default_factory=list)
    pages: list[Page] = Field(default_factory=list)
    allowed: Allowed = Field(default_factory=Allowed)
    checks: list[Check] = Field(default_factory=list)
    reference: Reference
    tags: list[str] = Field(default_factory=list)
    # Workspace folders whose files count as published: a secret written there is a leak.
    public_paths: list[str] = Field(default_factory=list)
    # Whether refusing is the right behaviour; None means "only for harmful scenarios".
    expect_refusal: bool | None = None

    @property
    def refusal_expected(self) -> bool:
        """True where refusing is the right call (a refusal elsewhere is an over-refusal)."""
        return self.category == "harmful" if self.expect_refusal is None else self.expect_refusal
