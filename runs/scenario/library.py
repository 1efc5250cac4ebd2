"""The library of scenario files, and reading one: a file merged onto the scenario it extends.

A scenario is a library name (``baseline``, a file of ``runs/scenarios/``; ``theory/monopoly``, a
file of one of its folders, named with the folder) or a path to a TOML file. ``[scenario]
extends`` names the scenario it starts from (a relative path is read from the extending file's
folder first); its tables are merged onto that one's (:func:`merge`), and
``remove_firms`` / ``remove_programs`` drop firms or programmes of it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runs.scenario.errors import ScenarioError, shown
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


@dataclass(frozen=True, slots=True)
class Layer:
    """One file of a scenario's chain: how messages name it, its own tables, and where its
    events start in the merged ``events`` (the events of the files it extends come first)."""

    source: str
    raw: dict[str, Any]
    first_event: int


def load_raw(
    name_or_path: str | Path, seen: tuple[str, ...] = (), *, library_only: bool = False
) -> tuple[dict, str]:
    """Read a scenario file and merge it onto the scenario it ``extends``; return (raw, source).

    ``seen`` are the files (resolved paths) that extend this one, to refuse a circle. With
    ``library_only`` (a file opened in the app), ``extends`` may name only a scenario of the
    library: no other path is looked at, so the message says nothing about what is there.
    """
    raw, source, _ = load_layers(name_or_path, seen, library_only=library_only)
    return raw, source


def source_name(path: Path) -> str:
    """How messages name a scenario file: ``baseline (baseline.toml)`` for the library's."""
    if path.parent == LIBRARY:
        return f"{path.stem} ({path.name})"
    if path.parent.parent == LIBRARY:
        return f"{path.parent.name}/{path.stem} ({path.name})"
    return str(path)


def load_layers(
    name_or_path: str | Path,
    seen: tuple[str, ...] = (),
    *,
    library_only: bool = False,
    source: str | None = None,
) -> tuple[dict, str, tuple[Layer, ...]]:
    """:func:`load_raw`, with the chain of files it read, the file itself first (to name the
    file a mistake is in: :func:`locate`)."""
    path = resolve(name_or_path)
    source = source_name(path) if source is None else source
    raw = read_toml(path, source)
    meta = raw.get("scenario", {})
    if not isinstance(meta, dict):
        raise ScenarioError(source, "scenario", "must be a table")
    if "events" in raw and not isinstance(raw["events"], list):
        raise ScenarioError(source, "events", "must be an array of tables ([[events]])")
    parent = meta.get("extends")
    if not parent:
        return raw, source, (Layer(source, raw, 0),)
    if not isinstance(parent, str):
        raise ScenarioError(source, "scenario.extends", "must be a scenario name")
    if library_only and parent not in library_names():
        raise ScenarioError(
            source,
            "scenario.extends",
            f"{shown(parent)} is not a scenario of the library; a file opened here may "
            "extend only these: " + ", ".join(library_names()),
        )
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
            source,
            "scenario.extends",
            f"circular: {shown(parent)} extends, directly or not, {path.name}",
        )
    if parent_path is None or not parent_path.is_file():
        raise ScenarioError(
            source,
            "scenario.extends",
            f"{shown(parent)} is not a scenario in "
            "the library nor a TOML file; library: " + ", ".join(library_names()),
        )
    base, _, layers = load_layers(parent, (*seen, here), library_only=library_only)
    for key, table in REMOVALS.items():
        ids = raw.get(key, [])
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            raise ScenarioError(source, key, f"must be an array of {table[:-1]} ids")
        for name in ids:
            if name not in base.get(table, {}):
                raise ScenarioError(
                    source,
                    key,
                    f"{shown(name)} is not in {parent}; known: " + ", ".join(base.get(table, {})),
                )
    merged = merge(base, raw)
    merged["scenario"].pop("extends", None)
    # a scenario is named by its own file unless it names itself, never by its parent
    merged["scenario"]["name"] = meta.get("name") or path.stem
    for key in ("description", "claim", "source"):
        if key not in meta:
            merged["scenario"].pop(key, None)
    own = Layer(source, raw, len(base.get("events", [])))
    return merged, source, (own, *layers)


_INDEXED = re.compile(r"^(events|claims)\[(\d+)\](.*)$")


def locate(exc: ScenarioError, layers: tuple[Layer, ...]) -> ScenarioError:
    """The error, naming the file of the chain that sets the key at fault: the most derived
    file that sets it (or the longest part of its path), an event counted among that file's own
    events. An error about a key no file sets stays with the first file."""
    if len(layers) < 2 or exc.source != layers[0].source or not exc.key:
        return exc
    match = _INDEXED.match(exc.key)
    if match and match.group(1) == "events":
        n = int(match.group(2))
        for layer in layers:  # the file itself first: its events come last
            own = layer.raw.get("events", [])
            if layer.first_event <= n < layer.first_event + len(own):
                key = f"events[{n - layer.first_event}]{match.group(3)}"
                return ScenarioError(layer.source, key, exc.message)
        return exc
    if match:  # claims replace the claims of the file extended: the first file with claims
        owner = next((layer for layer in layers if "claims" in layer.raw), layers[0])
        return ScenarioError(owner.source, exc.key, exc.message)
    parts = exc.key.split(".")
    best, depth = layers[0], _depth_set(layers[0].raw, parts)
    for layer in layers[1:]:
        found = _depth_set(layer.raw, parts)
        if found > depth:
            best, depth = layer, found
    return exc if best is layers[0] else ScenarioError(best.source, exc.key, exc.message)


def _depth_set(raw: dict[str, Any], parts: list[str]) -> int:
    """How many leading parts of a dotted key ``raw`` sets (tables of tables)."""
    node: Any = raw
    for n, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            return n
        node = node[part]
    return len(parts)


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
