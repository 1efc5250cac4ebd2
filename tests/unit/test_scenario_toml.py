"""A scenario written back as TOML is the same scenario: any text survives, and so does the run."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from runs import run
from runs.scenario import load_raw, load_scenario

TEXT = 'Die Preise fallen — 🚀 émoji, «accents», naïve café, 漢字, tab\tand "quotes"'
EVENT_TEXT = "📉 Nachfrage steigt, ça monte"


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; non-ASCII stays as it is)."""
    return json.dumps(text, ensure_ascii=False)


def _scenario_with_text(tmp_path: Path) -> Path:
    path = tmp_path / "texts.toml"
    path.write_text(
        '[scenario]\nextends = "baseline"\n'
        f"description = {_toml_string(TEXT)}\n\n"
        "[[events]]\n"
        'period = "2025Q3"\nkind = "demand"\nvalue = 1.1\n'
        f"text = {_toml_string(EVENT_TEXT)}\n",
        encoding="utf-8",
    )
    return path


def test_non_ascii_text_round_trips(tmp_path: Path) -> None:
    source = _scenario_with_text(tmp_path)
    first = load_scenario(source)
    assert first.description == TEXT
    assert first.events[-1].text == EVENT_TEXT
    written = tmp_path / "written.toml"
    written.write_text(first.to_toml(), encoding="utf-8")
    again = load_scenario(written)
    assert again.raw == first.raw
    assert again.digest() == first.digest()
    assert tomllib.loads(first.to_toml()) == first.raw


def test_the_written_file_reproduces_the_run_frames(tmp_path: Path) -> None:
    source = _scenario_with_text(tmp_path)
    first = run(source, quarters=4, seed=1)
    written = tmp_path / "as_run.toml"
    written.write_text(first.scenario_toml(), encoding="utf-8")
    raw, _ = load_raw(written)
    assert raw == tomllib.loads(first.scenario_toml())
    again = run(written, quarters=4, seed=1)
    assert again.scenario.raw == first.scenario.raw | {
        "scenario": {**first.scenario.raw["scenario"], "quarters": 4, "seed": 1}
    }
    assert first.frames.keys() == again.frames.keys()
    for name, frame in first.frames.items():
        assert frame.equals(again.frames[name]), name
    assert first.manifest["scenario_sha256_16"] == again.manifest["scenario_sha256_16"]
