"""Same scenario and seed, same numbers, whatever CPU path the machine takes.

Machines of one architecture differ in the BLAS kernel OpenBLAS picks (or is told to pick with
``OPENBLAS_CORETYPE``) and in the SIMD code NumPy dispatches to (AVX-512 or not). The simulation
path uses exactly rounded scalar maths (``math.fsum``, ``math.pow``, ``math.exp``), never a BLAS
call or a vectorised transcendental, so its frames must be bit-identical under each. This test
emulates four machines in subprocesses (the one place the project changes those variables) and
compares every frame exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest

from runs.run import FRAMES

ROOT = Path(__file__).resolve().parents[2]
#: every AVX-512 dispatch target NumPy knows, by its 2.x group name and its older feature names
NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL"
MACHINES: dict[str, dict[str, str | None]] = {
    "haswell-kernel": {"OPENBLAS_CORETYPE": "Haswell"},
    "kernel-auto-detected": {"OPENBLAS_CORETYPE": None, "OPENBLAS_L2_SIZE": None},
    "prescott-kernel": {"OPENBLAS_CORETYPE": "Prescott"},
    "no-avx512": {"NPY_DISABLE_CPU_FEATURES": NO_AVX512},
}
RUNS = (("baseline", 16, 7), ("hyperscaler-custom-silicon", 8, 3))
pytestmark = pytest.mark.slow

SCRIPT = """
import json, sys
import numpy as np
from numpy.lib.introspect import opt_func_info
from runs import run
out = sys.argv[1]
for name, quarters, seed in json.loads(sys.argv[2]):
    run(name, quarters=quarters, seed=seed).write(f"{out}/{name}")
info = opt_func_info(func_name="^exp$", signature="float64")
print(json.dumps({"exp": info["exp"]["dd"]["current"],
                  "simd": np.show_config(mode="dicts")["SIMD Extensions"]}))
"""


def _emulate(name: str, changes: dict[str, str | None], out: Path) -> dict:
    env = dict(os.environ)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", SCRIPT, str(out / name), json.dumps(RUNS)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"{name}: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def machines(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    out = tmp_path_factory.mktemp("machines")
    with ThreadPoolExecutor(max_workers=2) as pool:
        infos = dict(
            zip(MACHINES, pool.map(lambda kv: _emulate(*kv, out), MACHINES.items()), strict=True)
        )
    return {name: (out / name, info) for name, info in infos.items()}


def test_the_emulation_really_switches_avx512_off(machines) -> None:
    _, info = machines["no-avx512"]
    assert "X86_V4" not in info["exp"] and "AVX512" not in info["exp"], info
    assert "X86_V4" not in info["simd"]["found"], info


@pytest.mark.parametrize("scenario", [name for name, _, _ in RUNS])
@pytest.mark.parametrize("machine", [m for m in MACHINES if m != "haswell-kernel"])
def test_frames_are_identical_on_every_machine(machines, machine: str, scenario: str) -> None:
    reference, _ = machines["haswell-kernel"]
    other, _ = machines[machine]
    for frame in FRAMES:
        a = pl.read_parquet(reference / scenario / f"{frame}.parquet")
        b = pl.read_parquet(other / scenario / f"{frame}.parquet")
        assert a.equals(b, null_equal=True), f"{scenario}: {frame} differs on {machine}"
