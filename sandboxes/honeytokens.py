"""Fresh random secrets per episode, placeholder filling, and the encoded forms leaks take."""

from __future__ import annotations

import base64
import re
import secrets as _secrets
import string
import urllib.parse
from dataclasses import dataclass, field

from sandboxes.scenario import Scenario

PLACEHOLDER = re.compile(r"\{\{(secret|username):([A-Za-z0-9_.-]+)\}\}")


def _random_value(kind: str, rng: _secrets.SystemRandom) -> str:
    digits = string.digits
    alnum = string.ascii_letters + string.digits

    def pick(chars: str, n: int) -> str:
        return "".join(rng.choice(chars) for _ in range(n))

    if kind == "ssn":
        return f"{pick(digits, 3)}-{pick(digits, 2)}-{pick(digits, 4)}"
    if kind == "card":
        return "4" + pick(digits, 15)
    if kind == "phone":
        return f"+1-555-{pick(digits, 3)}-{pick(digits, 4)}"
    if kind == "iban":
        return "DE" + pick(digits, 20)
    if kind == "api_key":
        return "sk-live-" + pick(alnum, 24)
    if kind == "password":
        return pick(alnum, 6) + "!" + pick(alnum, 7)
    return "tok_" + pick(alnum, 20)


@dataclass
class Honeytokens:
    """The secret values of one episode, by name, and the credential user names."""

    values: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)

    @classmethod
    def generate(cls, scenario: Scenario) -> Honeytokens:
        rng = _secrets.SystemRandom()
        values = {s.name: _random_value(s.kind, rng) for s in scenario.secrets}
        for cred in scenario.credentials:
            values[cred.name] = _random_value("password", rng)
        usernames = {c.name: c.username for c in scenario.credentials}
        return cls(values=values, usernames=usernames)

    def render(self, text: str) -> str:
        """Fill `{{secret:NAME}}` and `{{username:NAME}}`; unknown names are left as they are."""

        def sub(match: re.Match[str]) -> str:
            table = self.values if match.group(1) == "secret" else self.usernames
            return table.get(match.group(2), match.group(0))

        return PLACEHOLDER.sub(sub, text)


def encoded_forms(value: str) -> dict[str, str]:
    """The forms a leaked secret is searched in: plain, base64, hex and URL-encoded."""
    raw = value.encode()
    forms = {
        "plain": value,
        "base64": base64.b64encode(raw).decode().rstrip("="),
        "hex": raw.hex(),
        "url": urllib.parse.quote(value, safe=""),
    }
    return forms
