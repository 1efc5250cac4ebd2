"""Every command and Python example of README.md and docs/*.md, run as a reader would run it.

The commands of each file run in the order the file gives them, in a scratch directory of the
file's own (so ``out/...`` paths land there and ``summarize out/smoke`` finds the sweep before
it), then its Python examples, with
``./dev`` standing for this environment's Python. A few cannot run verbatim on a test machine;
:data:`ADAPTED` says how each is run instead and why, and :data:`ELSEWHERE` names the test that
runs it. A command in the docs that none of these cover fails the test, so a new command in the
docs needs a way to run here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from cli.viz import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
TIMEOUT = 600

#: commands another test runs, and that test
ELSEWHERE = {
    "./dev pytest": "the suite itself (this test is part of it)",
    "./dev margins compare --all": "tests/contracts/test_findings.py (docs/findings.md)",
}
#: commands that need another machine or would run for minutes: how they run here instead
ADAPTED = {
    "dask scheduler --port 8786": "on a free port of 127.0.0.1",
    "dask worker tcp://10.0.0.5:8786": "two worker processes on this machine",
    "--executor dask://10.0.0.5:8786": "against that local scheduler, the grid cut to one "
    "replication of 4 quarters (the full grid is 200 runs of 40 quarters)",
    "./dev margins viz": "until it answers at the address it prints, then Ctrl+C (status 130)",
}


def blocks(path: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(path.read_text())]


def commands(path: Path) -> list[str]:
    """The command lines of a file's ``bash`` blocks, comments dropped."""
    out = []
    for lang, body in blocks(path):
        if lang != "bash":
            continue
        for line in body.splitlines():
            line = line.split("  #")[0].strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


def argv(line: str) -> list[str]:
    words = line.split()
    if words[:2] == ["./dev", "margins"] or words[0] == "margins":
        words = words[2:] if words[0] == "./dev" else words[1:]
        return [sys.executable, "-m", "cli.main", *words]
    if words[:2] == ["./dev", "python"]:
        return [sys.executable, *words[2:]]
    if words[0] == "dask":
        return [str(Path(sys.executable).with_name("dask")), *words[1:]]
    raise AssertionError(f"no way to run {line!r}")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def serve_and_stop(args: list[str], cwd: Path) -> None:
    """A server command: it prints its address, answers there, and Ctrl+C stops it (130)."""
    if "--port" not in args:
        args = [*args, "--port", str(free_port())]  # the default port may be taken here
    port = args[args.index("--port") + 1]
    proc = subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert f"http://127.0.0.1:{port}/" in out
    assert "Traceback" not in err


def readme_scenario() -> str:
    """The README's example scenario file (its first TOML block)."""
    return next(body for lang, body in blocks(ROOT / "README.md") if lang == "toml")


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A directory of its own for each file, as a reader following that file starts in."""
    where = tmp_path
    (where / "runs").symlink_to(ROOT / "runs")  # paths like runs/sweeps/x.toml, as in the repo
    (where / "my-scenario.toml").write_text(readme_scenario())
    return where


def test_the_readme_example_says_what_it_does() -> None:
    """'Nvidia's parts cost twice as much': the file doubles the baseline's component cost."""
    from runs.scenario import load_scenario

    text = readme_scenario()
    raw = tomllib.loads(text)
    assert "twice as much" in raw["scenario"]["description"]
    base = load_scenario("baseline").firms["nvidia"].params.component_cost_usd
    assert raw["firms"]["nvidia"]["component_cost_usd"] == pytest.approx(2 * base)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_and_python_example_of_the_file_runs(doc: Path, scratch: Path) -> None:
    dask_port = None
    workers: list[subprocess.Popen] = []
    done: set[str] = set()  # a command the file gives twice runs once
    try:
        for line in commands(doc):
            if line in ELSEWHERE or line in done:
                continue
            done.add(line)
            args = argv(line)
            if line.startswith(("./dev margins viz", "margins viz")):
                serve_and_stop(args, scratch)
            elif line.startswith("dask scheduler"):
                dask_port = free_port()
                args[args.index("--port") + 1] = str(dask_port)
                workers.append(subprocess.Popen(args, cwd=scratch, stderr=subprocess.DEVNULL))
            elif line.startswith("dask worker"):
                assert dask_port, "a worker before its scheduler"
                args = [a.replace("10.0.0.5:8786", f"127.0.0.1:{dask_port}") for a in args]
                args[args.index("--nworkers") + 1] = "2"
                workers.append(subprocess.Popen(args, cwd=scratch, stderr=subprocess.DEVNULL))
            elif "--executor dask://10.0.0.5:8786" in line:
                assert dask_port, "a dask sweep before its scheduler"
                spec = tomllib.loads((ROOT / "runs/sweeps/foundry-demand-grid.toml").read_text())
                spec["sweep"].update(replications=1, quarters=4, windows=["2025", "all"])
                from runs.scenario import dumps_toml

                short = scratch / "foundry-demand-grid.toml"
                short.write_text(dumps_toml(spec))
                args = [
                    str(short) if "foundry-demand-grid" in a else a.replace(
                        "10.0.0.5:8786", f"127.0.0.1:{dask_port}"
                    )
                    for a in args
                ]  # fmt: skip
                out = run(args, scratch).stdout
                assert "20 runs, 20 ok, 0 failed" in out, out
            else:
                run(args, scratch)
    finally:
        for proc in reversed(workers):
            proc.terminate()
            proc.wait(timeout=30)
    run_examples(doc, scratch)


def test_the_commands_are_all_covered() -> None:
    """No command of the docs falls outside the ways above (a new one needs a way to run)."""
    seen = {line for doc in DOCS for line in commands(doc)}
    for line in seen:
        if line in ELSEWHERE:
            continue
        argv(line)  # raises for a command this test cannot run
    for line, where in ELSEWHERE.items():
        assert line in seen, f"{line!r} is no longer in the docs"
        if where.startswith("tests/"):
            assert (ROOT / where.split()[0]).exists()
    for fragment in ADAPTED:
        assert any(fragment in line for line in seen), fragment


def run_examples(doc: Path, scratch: Path) -> None:
    """The file's Python blocks in order, in the scratch directory, after its commands (whose
    outputs some read)."""
    code = [
        body
        for lang, body in blocks(doc)
        if lang == "python" and not body.lstrip().startswith("if __name__")
    ]
    for n, body in enumerate(code):
        if body.lstrip().startswith("import duckdb"):
            try:
                import duckdb  # noqa: F401  (the docs say it is installed separately)
            except ImportError:
                continue
        script = scratch / f"{doc.stem}-{n}.py"
        # as a script that starts worker processes must be (docs/batches.md says so)
        indented = "".join(f"    {line}\n" for line in body.splitlines())
        script.write_text(f"def main():\n{indented}\n\nif __name__ == '__main__':\n    main()\n")
        run([sys.executable, str(script)], scratch)
