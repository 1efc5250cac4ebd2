"""The CPU time of short commands as whole processes (start-up, imports and all): the median of
several repetitions, each with the load average (1 minute) before it.

- ``margins run --quarters 2`` (the aim: at most 1.5 s of CPU);
- ``margins --help`` (it should not import the model);
- ``python -c "import runs"`` (the library's import).

CPU time is user + system of the child process, from ``getrusage(RUSAGE_CHILDREN)``, so it
counts what the process computed, not the time it waited for a busy core; a busy machine still
raises it a little (shared caches).

    ./dev python benchmarks/bench_startup.py              # 7 repetitions each
    ./dev python benchmarks/bench_startup.py --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def margins() -> list[str]:
    script = Path(sys.executable).with_name("margins")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def cpu_seconds(command: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench-startup-")) / "run"
    commands = {
        "margins run --quarters 2": [*margins(), "run", "--quarters", "2", "--out", str(out)],
        "margins --help": [*margins(), "--help"],
        'python -c "import runs"': [sys.executable, "-c", "import runs"],
    }
    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}"
    )
    for label, command in commands.items():
        cpu_seconds(command)  # once first: the page cache warm, as for any command run twice
        times, loads = [], []
        for _ in range(args.repeats):
            loads.append(os.getloadavg()[0])
            times.append(cpu_seconds(command))
        print(
            f"{label:<28} median {statistics.median(times):5.2f} s CPU "
            f"(min {min(times):.2f}, max {max(times):.2f}, n={len(times)}); "
            f"load {min(loads):.2f}–{max(loads):.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
