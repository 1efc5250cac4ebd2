"""Scenarios, runs, sweeps and the command line.

>>> from runs import run
>>> result = run("baseline", quarters=4, seed=1)
>>> result.firms.columns[:4]
['quarter', 'period', 'firm', 'name']
"""

from runs.run import RunResult, run
from runs.scenario import Scenario, ScenarioError, load_scenario
from runs.sweep import sweep

__all__ = ["RunResult", "Scenario", "ScenarioError", "load_scenario", "run", "sweep"]
