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


def read_toml(path: Path) -> dict[str, Any]:
    """The tables of a TOML file; a file that cannot be read is one :class:`ScenarioError`."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "", "not valid TOML (the file is not UTF-8 text)") from None
    except IsADirectoryError:
        raise ScenarioError(str(path), "", "is a folder, not a TOML file") from None
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read ({exc.strerror})") from None


def dumps_toml(data: dict[str, Any]) -> str:
    """A scenario's tables as TOML text that reads back to the same tables."""
    return tomli_w.dumps(data)


def digest(raw: dict[str, Any]) -> str:
    """First 16 hex digits of the SHA-256 of a scenario's tables (JSON, sorted keys)."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
