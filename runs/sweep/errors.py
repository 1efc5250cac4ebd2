"""The two errors a sweep reports before it runs anything: a bad spec, an unusable place to run."""

from __future__ import annotations

from runs.scenario import ScenarioError


class SpecError(ScenarioError):
    """A sweep spec that cannot run; the message names the file, the key and what is allowed."""


class SweepError(ValueError):
    """A sweep that cannot start: its output directory or its executor is unusable."""


class SweepFailure(RuntimeError):
    """A sweep that stopped part-way for a reason not its runs' own: its executor failed (a
    Dask scheduler gone, a pool that cannot be restarted). What finished is kept; running the
    sweep again finishes the rest."""
