"""CLI contract: `margins run | scenarios | validate` do their job, and a user's mistake is one
``error:`` line on stderr with exit status 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from runs.report import LAYERS
from runs.run import FRAMES
from runs.scenario import library_names, load_scenario

ROOT = Path(__file__).resolve().parents[2]
OUT_FILES = {"manifest.json", "scenario.toml", *(f"{name}.parquet" for name in FRAMES)}


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def assert_user_error(result, *fragments: str) -> str:
    """Exit 2, nothing on stdout, one ``error:`` line on stderr containing ``fragments``."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def four_quarters(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("cli") / "run"
    return out, invoke("run", "--quarters", "4", "--seed", "1", "--out", str(out))


def test_run_writes_the_six_files(four_quarters) -> None:
    out, result = four_quarters
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert {p.name for p in out.iterdir()} == OUT_FILES
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["scenario"], manifest["seed"], manifest["quarters"]) == ("baseline", 1, 4)


def test_run_prints_the_margin_tables(four_quarters) -> None:
    out, result = four_quarters
    text = result.stdout
    assert "Margins by layer" in text
    assert "Leading firms by revenue" in text
    assert "2025" in text and "gross" in text and "op" in text
    layer_rows = [
        line.split()[0] for line in text.splitlines() if line.split() and line.split()[0] in LAYERS
    ]
    assert layer_rows == list(LAYERS)
    assert "%" in text
    assert text.rstrip().endswith(f"wrote {out}")
    assert result.stderr == ""


def test_run_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--quarters", "1")
    assert result.exit_code == 0, result.stderr
    seed = load_scenario("baseline").seed
    out = Path("out") / f"baseline-seed{seed}"
    assert {p.name for p in out.iterdir()} == OUT_FILES
    assert "2025*" in result.stdout  # one quarter: a partial year, marked
    assert result.stdout.rstrip().endswith(f"wrote {out}")


def test_run_a_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "cheap_chips.toml"
    path.write_text(
        '[scenario]\nextends = "baseline"\nquarters = 2\nseed = 5\n'
        "[technology]\nchip_cost_decline = 0.5\n"
    )
    out = tmp_path / "out"
    result = invoke("run", str(path), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["seed"], manifest["quarters"]) == (5, 2)
    assert "chip_cost_decline = 0.5" in (out / "scenario.toml").read_text()


def test_scenarios_lists_the_library() -> None:
    result = invoke("scenarios")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(library_names())
    baseline = next(line for line in lines if line.split()[0] == "baseline")
    assert load_scenario("baseline").description in baseline


def test_validate_ok() -> None:
    result = invoke("validate", "baseline")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK ")
    assert "baseline" in result.stdout


@pytest.mark.parametrize("args", [[], ["run"], ["scenarios"], ["validate"]])
def test_help_is_complete(args: list[str]) -> None:
    result = invoke(*args, "--help")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "Usage: margins" in text
    assert "Show this message and exit." in text
    if not args:
        for command in ("run", "scenarios", "validate"):
            assert command in text
    if args == ["run"]:
        for option in ("--quarters", "--seed", "--out"):
            assert option in text
        assert "Quarters to simulate" in text
        assert "Random seed" in text
        assert "Directory to write" in text
        assert "A scenario of the library" in text
    if args == ["validate"]:
        assert "A scenario of the library or a path" in text


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", "--quarters", "0"], ["--quarters", "1 and 400", "got 0"]),
        (["run", "--quarters", "-4"], ["--quarters", "got -4"]),
        (["run", "--quarters", "401"], ["--quarters", "got 401"]),
        (["run", "--quarters", "many"], ["--quarters"]),
        (["run", "--seed", "-1", "--quarters", "1"], ["--seed", "got -1"]),
        (["run", "no_such_scenario"], ["no_such_scenario", "library: ", "baseline"]),
        (["run", "--no-such-option"], ["--no-such-option"]),
        (["validate", "no_such_scenario"], ["no_such_scenario", "baseline"]),
        (["validate"], ["scenario"]),
        (["no_such_command"], ["no_such_command"]),
    ],
)
def test_usage_mistakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], fragments: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_user_error(invoke(*args), *fragments)
    assert not (tmp_path / "out").exists()  # nothing written for a mistake


def test_bad_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[scenario]\nextends = "baseline"\n[firms.tsmc]\nlead_quarters = 2.5\n')
    for args in (["run", str(path), "--out", str(tmp_path / "out")], ["validate", str(path)]):
        assert_user_error(invoke(*args), str(path), "firms.tsmc.lead_quarters", "integer")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["under-a-file", "is-a-file"])
def test_unwritable_out_dir(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    out = blocker / "sub" if where == "under-a-file" else blocker
    assert_user_error(invoke("run", "--quarters", "1", "--out", str(out)), "--out", str(out))


def test_subprocess_exit_status_and_stderr(tmp_path: Path) -> None:
    """The real process: exit status 2, one stderr line naming the file and key, no traceback."""
    path = tmp_path / "bad.toml"
    path.write_text('[scenario]\nextends = "baseline"\n[technology]\nno_such = 1.0\n')
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {path}: technology.no_such: unknown key; allowed: ")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("host", "warned"),
    [("127.0.0.1", False), ("localhost", False), ("::1", False), ("0.0.0.0", True)],
)
def test_viz_warns_that_the_app_has_no_login_beyond_loopback(
    monkeypatch: pytest.MonkeyPatch, host: str, warned: bool
) -> None:
    import solara.__main__

    import cli.viz

    served = []
    monkeypatch.setattr(cli.viz, "check_bind", lambda host, port: None)
    monkeypatch.setattr(
        cli.viz.subprocess,
        "run",
        lambda *a, **k: subprocess.CompletedProcess(a, 0, "", ""),
    )
    monkeypatch.setattr(solara.__main__.run, "main", lambda **kwargs: served.append(kwargs))
    result = invoke("viz", "--host", host, "--port", "8765")
    assert result.exit_code == 0, result.stderr
    assert served, "the server was not started"
    assert ("the app has no login" in result.stderr) is warned, result.stderr
