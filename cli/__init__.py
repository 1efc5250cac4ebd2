"""The `margins` command line: run, scenarios, validate, sweep, summarize, compare, viz."""
