"""``margins run --out``: written atomically, never into a stranger's directory by surprise, and a
disk that refuses (full, read-only, forbidden) is one ``error:`` line with exit status 1.

A full disk is injected by making the writer fail part-way (as polars does on a full disk: a
``ComputeError`` naming the OS error), a read-only file system by an ``OSError`` from ``mkdir``.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from runs.output import RUN_FILES

NO_SPACE = (
    "parquet: File out of specification: underlying IO error: No space left on device (os error 28)"
)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def one_error(result, code: int, *fragments: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def strays(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prev") / "run"
    assert invoke("run", "--quarters", "2", "--seed", "1", "--out", str(out)).exit_code == 0
    return out


def copy_of(previous: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    out.mkdir()
    for name, data in snapshot(previous).items():
        (out / name).write_bytes(data)
    return out


def fail_on_write(monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """The ``after``-th Parquet file written and those after it fail as on a full disk."""
    real = pl.DataFrame.write_parquet
    calls = {"n": 0}

    def write_parquet(self, file, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            Path(file).write_bytes(b"PAR1 half a file")  # what a full disk leaves behind
            raise pl.exceptions.ComputeError(NO_SPACE)
        return real(self, file, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", write_parquet)


def test_a_full_disk_leaves_the_previous_output_whole(
    previous: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = copy_of(previous, tmp_path)
    before = snapshot(out)
    fail_on_write(monkeypatch, after=2)
    result = invoke("run", "--quarters", "3", "--seed", "2", "--out", str(out))
    one_error(result, 1, f"--out {out}", "cannot write (No space left on device)")
    assert snapshot(out) == before  # the old run, every file of it
    assert strays(tmp_path) == []  # no temporary directory left


def test_a_full_disk_on_a_new_directory_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_on_write(monkeypatch, after=0)
    out = tmp_path / "new"
    one_error(invoke("run", "--quarters", "2", "--out", str(out)), 1, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_file_system_is_one_line_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def mkdir(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", mkdir)
    out = tmp_path / "ro" / "run"
    one_error(
        invoke("run", "--quarters", "1", "--out", str(out)),
        1,
        "cannot write (Read-only file system)",
    )


def test_permission_refused_is_one_line_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Path.write_text

    def write_text(self, *args, **kwargs):
        if self.name == "manifest.json":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    out = tmp_path / "run"
    one_error(invoke("run", "--quarters", "1", "--out", str(out)), 1, "Permission denied")
    assert not out.exists() and strays(tmp_path) == []


def test_a_previous_run_is_replaced_whole(previous: Path, tmp_path: Path) -> None:
    out = copy_of(previous, tmp_path)
    result = invoke("run", "--quarters", "3", "--seed", "2", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert {p.name for p in out.iterdir()} == RUN_FILES
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["quarters"], manifest["seed"]) == (3, 2)
    assert strays(tmp_path) == []


def test_a_directory_of_other_files_is_refused_without_force(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("my own work")
    one_error(
        invoke("run", "--quarters", "1", "--out", str(out)),
        2,
        f"--out {out}: not empty and not the output of a run",
        "--force",
    )
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]
    result = invoke("run", "--quarters", "1", "--out", str(out), "--force")
    assert result.exit_code == 0, result.stderr
    assert {p.name for p in out.iterdir()} == {*RUN_FILES, "thesis.docx"}
    assert (out / "thesis.docx").read_text() == "my own work"
    assert strays(tmp_path) == []


def test_an_empty_directory_is_written_into(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert invoke("run", "--quarters", "1", "--out", str(out)).exit_code == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES


def test_the_python_api_writes_atomically_too(
    previous: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runs import run
    from runs.output import OutputError

    out = copy_of(previous, tmp_path)
    before = snapshot(out)
    result = run("baseline", quarters=1)
    fail_on_write(monkeypatch, after=1)
    with pytest.raises(OutputError, match="No space left on device"):
        result.write(out)
    assert snapshot(out) == before and strays(tmp_path) == []


def test_exit_statuses_are_documented() -> None:
    text = " ".join(invoke("--help").stdout.split())
    for words in ("0 all done", "1 some runs failed", "2 bad input", "130 interrupted"):
        assert words in text, words
    docs = (Path(__file__).resolve().parents[2] / "docs" / "batches.md").read_text()
    for words in ("`0`", "`1`", "`2`", "`130`"):
        assert words in docs


def test_ctrl_c_during_a_run_exits_130_and_leaves_nothing(
    previous: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    module = importlib.import_module("runs.run")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "run", interrupted)
    out = copy_of(previous, tmp_path)
    before = snapshot(out)
    result = invoke("run", "--quarters", "1", "--out", str(out))
    assert result.exit_code == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(out) == before and strays(tmp_path) == []
