"""The library of scenario files, and reading one: a file merged onto the scenario it extends.

A scenario is a library name (``baseline``, a file of ``runs/scenarios/``; ``theory/monopoly``, a
file of one of its folders, named with the folder) or a path to a TOML file. ``[scenario]
extends`` names the scenario it starts from (a relative path is read from the extending file's
folder first); its tables are merged onto that one's (:func:`merge`), and
``remove_firms`` / ``remove_programs`` drop firms or programmes of it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from runs.scenario.errors import ScenarioError
from runs.scenario.io import read_toml

LIBRARY = Path(__file__).parent.parent / "scenarios"
#: top-level keys of an extending file that drop entries of the table it names
REMOVALS = {"remove_firms": "firms", "remove_programs": "programs"}


def library_names(folders: bool = True) -> list[str]:
    """The library's scenarios: the files of ``runs/scenarios/`` by stem, then (``folders``) the
    files of its folders as ``folder/stem`` (``theory/monopoly``: textbook checks of the
    economy, not moves of the industry)."""
    top = sorted(p.stem for p in LIBRARY.glob("*.toml"))
    if not folders:
        return top
    return top + sorted(
        p.relative_to(LIBRARY).with_suffix("").as_posix() for p in LIBRARY.glob("*/*.toml")
    )


def resolve(name_or_path: str | Path) -> Path:
    """A library name (``baseline``) or a path to a TOML file."""
    text = str(name_or_path)
    if text in library_names():
        return LIBRARY.joinpath(*text.split("/")).with_suffix(".toml")
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        return path
    raise ScenarioError(
        text,
        "",
        "not a scenario in the library nor a TOML file; library: " + ", ".join(library_names()),
    )


def load_raw(name_or_path: str | Path, seen: tuple[str, ...] = ()) -> tuple[dict, str]:
    """Read a scenario file and merge it onto the scenario it ``extends``; return (raw, source).

    ``seen`` are the files (resolved paths) that extend this one, to refuse a circle.
    """
    path = resolve(name_or_path)
    source = (
        f"{path.stem} ({path.name})"
        if path.parent == LIBRARY
        else f"{path.parent.name}/{path.stem} ({path.name})"
        if path.parent.parent == LIBRARY
        else str(path)
    )
    raw = read_toml(path)
    meta = raw.get("scenario", {})
    if not isinstance(meta, dict):
        raise ScenarioError(source, "scenario", "must be a table")
    parent = meta.get("extends")
    if not parent:
        return raw, source
    if not isinstance(parent, str):
        raise ScenarioError(source, "scenario.extends", "must be a scenario name")
    beside = path.parent / parent
    if parent not in library_names() and beside.is_file():
        parent = str(beside)
    here = str(path.resolve())
    try:
        parent_path: Path | None = resolve(parent)
    except ScenarioError:
        parent_path = None
    there = str(parent_path.resolve()) if parent_path is not None else parent
    if there == here or there in seen:
        raise ScenarioError(
            source, "scenario.extends", f"circular: {parent} extends, directly or not, {path.name}"
        )
    if parent_path is None or not parent_path.is_file():
        raise ScenarioError(
            source,
            "scenario.extends",
            f"{parent!r} is not a scenario in "
            "the library nor a TOML file; library: " + ", ".join(library_names()),
        )
    if "events" in raw and not isinstance(raw["events"], list):
        raise ScenarioError(source, "events", "must be an array of tables ([[events]])")
    base, _ = load_raw(parent, (*seen, here))
    for key, table in REMOVALS.items():
        ids = raw.get(key, [])
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            raise ScenarioError(source, key, f"must be an array of {table[:-1]} ids")
        for name in ids:
            if name not in base.get(table, {}):
                raise ScenarioError(
                    source,
                    key,
                    f"{name!r} is not in {parent}; known: " + ", ".join(base.get(table, {})),
                )
    merged = merge(base, raw)
    merged["scenario"].pop("extends", None)
    # a scenario is named by its own file unless it names itself, never by its parent
    merged["scenario"]["name"] = meta.get("name") or path.stem
    for key in ("description", "claim", "source"):
        if key not in meta:
            merged["scenario"].pop(key, None)
    return merged, source


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``over`` onto ``base``: tables merge, ``events`` append, other values replace.

    ``remove_firms`` and ``remove_programs`` (lists of ids) drop entries of the base.
    """
    out = copy.deepcopy(base)
    for key, value in over.items():
        if key == "events":
            out["events"] = list(out.get("events", [])) + list(value)
        elif key in REMOVALS:
            for name in value:
                out.get(REMOVALS[key], {}).pop(name, None)
        else:
            out[key] = _merge_value(out.get(key), value)
    return out


def _merge_value(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = copy.deepcopy(base)
        for key, value in over.items():
            out[key] = _merge_value(out.get(key), value)
        return out
    return copy.deepcopy(over)
