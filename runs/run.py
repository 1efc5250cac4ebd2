"""One run: scenario in, frames out (and, on request, a directory of Parquet files)."""

from __future__ import annotations

import copy
import functools
import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

# Mesa first, before the scenario loader brings it in from deep in its imports: Mesa's logging
# set-up inspects the call stack (every frame against every loaded module), so importing it from
# a shallow frame with fewer modules loaded takes ~50 ms less of every run's start-up.
import mesa  # noqa: F401
import numpy as np
import polars as pl

from runs.output import FRAMES, Staged
from runs.scenario import Scenario, digest, dumps_toml, load_scenario

__all__ = ["FRAMES", "RunResult", "as_run", "manifest", "run"]


@dataclass
class RunResult:
    """What a run returns: the frames and the manifest that describes them."""

    scenario: Scenario
    seed: int
    quarters: int
    frames: dict[str, pl.DataFrame]
    manifest: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pl.DataFrame:
        frames = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(name)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.__dict__.get("frames", {})})

    def __repr__(self) -> str:
        """One line a frame: ``RunResult(baseline, seed 1, 12 quarters; firms 288×27, …)``."""
        shapes = ", ".join(f"{name} {f.height}×{f.width}" for name, f in self.frames.items())
        return (
            f"RunResult({self.scenario.name}, seed {self.seed}, {self.quarters} quarters; "
            f"frames: {shapes})"
        )

    def scenario_toml(self) -> str:
        """The scenario as run: its own tables, with the run's quarters and seed."""
        return dumps_toml(as_run(self.scenario, self.quarters, self.seed))

    def write(self, out: str | Path, staged: Staged | None = None) -> Path:
        """Write ``manifest.json``, ``scenario.toml`` and one Parquet file per frame into the
        directory ``out``, atomically (:mod:`runs.output`): a previous run's output there is
        replaced whole, other files of ``out`` stay. ``staged``: a :class:`~runs.output.Staged`
        made (and checked) before the run. Raises :class:`~runs.output.OutputError`."""
        staged = staged if staged is not None else Staged(out, force=True)
        return staged.write(self.write_files)

    def write_files(self, out: Path) -> Path:
        """Write the run's files into the existing directory ``out``, in place."""
        for name, frame in self.frames.items():
            frame.write_parquet(out / f"{name}.parquet", statistics=False)
        (out / "scenario.toml").write_text(self.scenario_toml())
        (out / "manifest.json").write_text(json.dumps(self.manifest, indent=2, sort_keys=True))
        return out


def run(
    scenario: str | Path | Scenario = "baseline",
    quarters: int | None = None,
    seed: int | None = None,
    overrides: dict[str, Any] | None = None,
    economy_hook=None,
    scale: int | None = None,
) -> RunResult:
    """Run a scenario and return its frames as polars DataFrames (nothing is written).

    Args:
        scenario: a library name, a path to a TOML file, or a loaded :class:`Scenario`.
        quarters: how many quarters (default: the scenario's own).
        seed: the seed (default: the scenario's own).
        overrides: parameter values by dotted path, e.g. ``{"firms.nvidia.list_price_usd": 3e4}``.
        scale: run the economy K times over, every app, host and segment cloned K times at 1/K
            the size (``[scenario] scale``, :mod:`runs.scenario.scale`); applied after the
            overrides.
    """
    from economy.model import Economy

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides, scale=scale)
    elif overrides or scale is not None:
        raise ValueError("overrides and scale apply when loading; pass a scenario name or path")
    quarters = scenario.quarters if quarters is None else quarters
    seed = scenario.seed if seed is None else seed
    economy = Economy(scenario, seed=seed)
    for _ in range(quarters):
        economy.step()
        if economy_hook is not None:
            economy_hook(economy)
    frames = economy.recorder.frames()
    return RunResult(
        scenario, seed, quarters, frames, manifest(scenario, seed, quarters, overrides)
    )


def as_run(scenario: Scenario, quarters: int, seed: int) -> dict[str, Any]:
    """The scenario's tables with the quarters and seed of a run (what ``scenario.toml`` holds:
    running that file reproduces the run)."""
    raw = copy.deepcopy(scenario.raw)
    raw.setdefault("scenario", {}).update(quarters=quarters, seed=seed)
    return raw


def manifest(
    scenario: Scenario, seed: int, quarters: int, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "overrides": dict(overrides or {}),
        "scale": scenario.scale,
        "scenario_sha256_16": digest(as_run(scenario, quarters, seed)),
        "seed": seed,
        "quarters": quarters,
        "start": scenario.start,
        "frames": [f"{name}.parquet" for name in FRAMES],
        "versions": {
            pkg: _version(pkg) for pkg in ("chasing-margins", "mesa", "numpy", "polars", "networkx")
        },
        "python": platform.python_version(),
        "code_version": _code_version(),
        "machine": machine(),
    }


@functools.cache
def machine() -> dict[str, Any]:
    """What could make another machine compute differently, as seen here: NumPy's version, the
    BLAS it was built with (and a kernel forced by ``OPENBLAS_CORETYPE``), and the SIMD
    extensions NumPy found and may dispatch to (less any ``NPY_DISABLE_CPU_FEATURES``). The
    simulation's results do not depend on them (docs/model.md, "Same numbers on every
    machine"); they are recorded so that a reader can check."""
    config = np.show_config(mode="dicts")
    blas = config.get("Build Dependencies", {}).get("blas", {})
    simd = config.get("SIMD Extensions", {})
    return {
        "platform": platform.machine(),
        "numpy": np.__version__,
        "blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "cpu_features": sorted({*simd.get("baseline", []), *simd.get("found", [])}),
        "cpu_features_disabled": os.environ.get("NPY_DISABLE_CPU_FEATURES", ""),
    }


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def _code_version() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            timeout=5,
            check=False,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
