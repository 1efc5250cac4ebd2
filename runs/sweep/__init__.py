"""Experiment batches: sweep parameters, replicate with seeds, summarize what the runs show.

A *spec* (a TOML file or a dict) names a base scenario, the parameters to vary, the replications
of every point and the quarters. :func:`sweep` runs every point × replication on a local process
pool (or serially, or on a Dask cluster), writes each run's files under ``OUT/runs/<run_id>/`` and
returns the per-run summary; ``OUT/runs.parquet`` and ``OUT/summary.parquet`` index the lot.

    >>> from runs.sweep import plan_sweep
    >>> spec = {"sweep": {"quarters": 4, "replications": 2},
    ...         "vary": {"demand.multiplier": [0.8, 1.2]}}
    >>> [task.run_id for task in plan_sweep(spec).tasks]
    ['p000-r00', 'p000-r01', 'p001-r00', 'p001-r01']

Guarantees:

- Everything about a spec is checked before the first run (:class:`SpecError`, which names the
  file, the key and what is allowed): unknown keys, parameter paths that do not exist in the
  scenario, values the scenario would reject, empty ranges, windows outside the runs.
- Seeds come from one root seed via :meth:`numpy.random.SeedSequence.spawn`; every run records
  its parameters and seed, and a run's outputs depend only on them. The summary is therefore the
  same serially, on any number of local workers and on Dask.
- A run is done when its directory exists: workers write into ``OUT/runs/.tmp/`` and rename the
  finished directory into place, so a killed sweep never leaves half a run counted as done.
  Running the same spec into the same directory again runs only what is missing.
- A run that raises is recorded (``status = "failed"`` and the error) and the sweep goes on.
  A failure that is not the run's own — its worker lost, its files not written (a full disk),
  the executor gone — is never recorded: the next sweep into the directory runs it again.
- A finished run counts as done only when its files are whole (``result.json``, the manifest
  and, with panels, every Parquet frame readable); otherwise it is run again.

The modules, each with one job:

- :mod:`~runs.sweep.spec` reads and checks a spec on its own;
- :mod:`~runs.sweep.plan` checks it against its scenarios and lists the runs and their seeds;
- :mod:`~runs.sweep.summary` computes one run's summary figures;
- :mod:`~runs.sweep.worker` runs a chunk of runs in a worker;
- :mod:`~runs.sweep.records` is a finished run's record on disk and its atomic commit;
- :mod:`~runs.sweep.store` is the sweep directory: lock, finished runs, the tables;
- :mod:`~runs.sweep.executors` are the places chunks run: serial, local processes, Dask;
- :mod:`~runs.sweep.progress` shows progress; :mod:`~runs.sweep.engine` runs the sweep;
- :mod:`~runs.sweep.points` reads the summary table per point (means and intervals, by
  :mod:`runs.stats`).
"""

from market.calendar import ALL, MAX_QUARTERS, MAX_SEED, Window
from runs.sweep.engine import SweepReport, sweep
from runs.sweep.errors import SpecError, SweepError, SweepFailure
from runs.sweep.executors import (
    CONNECT_TIMEOUT_S,
    LocalWorkers,
    Pool,
    check_main_guard,
    check_workers,
    default_workers,
    max_workers,
    open_pool,
    parse_executor,
)
from runs.sweep.plan import Plan, RunTask, plan_sweep, replication_seeds
from runs.sweep.points import (
    default_counts,
    figure_columns,
    key_window,
    parameter_columns,
    point_summary,
)
from runs.sweep.progress import PROGRESS_INTERVAL_S, Progress, human_duration
from runs.sweep.records import TIMING_COLUMNS, commit_run
from runs.sweep.spec import (
    MAX_RUNS,
    SPEC_LIBRARY,
    Range,
    SweepSpec,
    load_spec,
    resolve_spec,
    spec_names,
)
from runs.sweep.store import SweepDir, collect, read_meta
from runs.sweep.summary import LAYER_FIGURES, PRICE_MARKETS, summarize_run
from runs.sweep.worker import Chunk, Outcome, run_chunk, worker_init

__all__ = [
    "ALL",
    "CONNECT_TIMEOUT_S",
    "LAYER_FIGURES",
    "MAX_QUARTERS",
    "MAX_RUNS",
    "MAX_SEED",
    "PRICE_MARKETS",
    "PROGRESS_INTERVAL_S",
    "SPEC_LIBRARY",
    "TIMING_COLUMNS",
    "Chunk",
    "LocalWorkers",
    "Outcome",
    "Plan",
    "Pool",
    "Progress",
    "Range",
    "RunTask",
    "SpecError",
    "SweepDir",
    "SweepError",
    "SweepFailure",
    "SweepReport",
    "SweepSpec",
    "Window",
    "check_main_guard",
    "check_workers",
    "collect",
    "commit_run",
    "default_counts",
    "default_workers",
    "figure_columns",
    "human_duration",
    "key_window",
    "load_spec",
    "max_workers",
    "open_pool",
    "parameter_columns",
    "parse_executor",
    "plan_sweep",
    "point_summary",
    "read_meta",
    "replication_seeds",
    "resolve_spec",
    "run_chunk",
    "spec_names",
    "summarize_run",
    "sweep",
    "worker_init",
]
