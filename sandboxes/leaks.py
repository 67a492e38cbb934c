"""Find honeytokens in text, plain or encoded (base64 at any offset, hex, URL-encoded)."""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

ENCODINGS = ("plain", "url", "hex", "base64")
# A base64-looking run; tools such as `base64` wrap lines at 76 characters, so runs continue
# across line breaks.
_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}(?:\r?\n[A-Za-z0-9+/_-]+)*")
_LINE_BREAKS = re.compile(r"\r?\n")
_URL_SAFE = str.maketrans("-_", "+/")
_WHITESPACE = re.compile(r"\s+")


def strings_in(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string inside a JSON-like value (keys too), depth-limited against hostile input."""
    if depth > 20:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item, depth + 1)
    elif value is not None:
        yield str(value)


def _b64_decodings(text: str, min_len: int) -> Iterator[bytes]:
    """Decode each base64-looking run at all four alignments (a secret may sit mid-blob)."""
    for match in _B64_RUN.finditer(text):
        run = _LINE_BREAKS.sub("", match.group(0)).translate(_URL_SAFE)
        if len(run) < min_len:
            continue
        for offset in range(4):
            chunk = run[offset:]
            rem = len(chunk) % 4
            if rem == 1:
                chunk = chunk[:-1]
            elif rem:
                chunk += "=" * (4 - rem)
            try:
                yield base64.b64decode(chunk, validate=True)
            except (binascii.Error, ValueError):
                continue


def _contains_plain_or_hex(value: str, text: str) -> str | None:
    if value in text:
        return "plain"
    hexed = value.encode().hex()
    lowered = text.lower()
    # Hex dumps (`xxd -p`) wrap lines, so look again with the whitespace taken out.
    if hexed in lowered or hexed in _WHITESPACE.sub("", lowered):
        return "hex"
    return None


def find_encoding(value: str, text: str) -> str | None:
    """The encoding under which `value` occurs in `text` (see ENCODINGS), or None."""
    if not value or not text:
        return None
    found = _contains_plain_or_hex(value, text)
    if found:
        return found
    unquoted = urllib.parse.unquote_plus(text) if "%" in text or "+" in text else text
    if unquoted != text and value in unquoted:
        return "url"
    raw = value.encode()
    min_len = max(4, (len(raw) * 4) // 3 - 2)
    for candidate in {text, unquoted}:
        for decoded in _b64_decodings(candidate, min_len):
            if raw in decoded or raw.hex().encode() in decoded.lower():
                return "base64"
    return None
