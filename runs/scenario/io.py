"""Scenario data as bytes: reading a TOML file, writing one back, and a digest of the tables.

Writing uses ``tomli-w`` (the TOML writer of the ``tomli``/``tomllib`` family), so any text —
accents, emoji — is written as UTF-8 that :func:`tomllib.load` reads back unchanged.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from runs.scenario.errors import ScenarioError

#: the deepest a scenario's tables and arrays may nest (the deepest the schema uses is 4:
#: ``firms.<id>.segments.<segment>``; sweep specs' dotted paths a few more)
MAX_DEPTH = 12
#: the largest scenario file read, in bytes (the baseline is about 10 kB)
MAX_FILE_BYTES = 2**20


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """The tables of TOML text, nested at most :data:`MAX_DEPTH` deep; a mistake is one
    :class:`ScenarioError` naming ``source``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", f"not valid TOML ({exc})") from None
    except RecursionError:
        raise ScenarioError(source, "", too_deep()) from None
    check_depth(data, source)
    return data


def too_deep() -> str:
    return f"tables or arrays nested more than {MAX_DEPTH} deep; a scenario needs at most 4"


def check_depth(data: Any, source: str) -> None:
    """Refuse tables or arrays nested deeper than :data:`MAX_DEPTH` (walked without recursion,
    so that no depth makes it fail)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError(source, "", too_deep())
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def read_toml(path: Path, source: str | None = None) -> dict[str, Any]:
    """The tables of a TOML file; a file that cannot be read is one :class:`ScenarioError`."""
    source = str(path) if source is None else source
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(source, "", "is a folder, not a TOML file") from None
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(
            source, "", f"larger than {MAX_FILE_BYTES // 2**20} MB: not a scenario file"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(source, "", "not valid TOML (the file is not UTF-8 text)") from None
    return parse_toml(text, source)


def dumps_toml(data: dict[str, Any]) -> str:
    """A scenario's tables as TOML text that reads back to the same tables."""
    return tomli_w.dumps(data)


def digest(raw: dict[str, Any]) -> str:
    """First 16 hex digits of the SHA-256 of a scenario's tables (JSON, sorted keys)."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
