"""The summary table across replications: which columns are parameters and figures, the mean
and confidence interval of each figure per point, and how often each firm defaulted."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from runs.stats import group_mean_interval


def parameter_columns(summary: pl.DataFrame) -> list[str]:
    """The varied parameters' columns of a summary (between ``scenario`` and ``seed``)."""
    columns = summary.columns
    return columns[columns.index("scenario") + 1 : columns.index("seed")]


def figure_columns(summary: pl.DataFrame) -> list[str]:
    """The numeric figure columns of a summary (everything after ``status`` that is a number)."""
    columns = summary.columns
    return [c for c in columns[columns.index("status") + 1 :] if summary.schema[c].is_numeric()]


def key_window(labels: Sequence[str]) -> str:
    """The window ``margins summarize`` shows by default: the last calendar year, else the
    last window listed."""
    years = [label for label in labels if len(label) == 4 and label.isdigit()]
    return years[-1] if years else labels[-1]


def point_summary(
    summary: pl.DataFrame, figures: Sequence[str] | None = None, level: float = 0.95
) -> pl.DataFrame:
    """One row per point: ``runs``, ``failed``, then for each figure its mean over the point's
    successful runs and a confidence interval of that mean (see
    :func:`runs.stats.group_mean_interval`)."""
    figures = list(figures) if figures is not None else figure_columns(summary)
    keys = ["point", "scenario", *parameter_columns(summary)]
    counts = summary.group_by(keys, maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("runs"),
        (pl.col("status") == "failed").sum().cast(pl.Int64).alias("failed"),
    )
    stats = group_mean_interval(summary.filter(pl.col("status") == "ok"), ["point"], figures, level)
    return counts.join(stats, on="point", how="left", maintain_order="left")


def default_counts(summary: pl.DataFrame) -> pl.DataFrame:
    """Per point and firm: in how many successful runs the firm defaulted."""
    ok = summary.filter(pl.col("status") == "ok").select("point", "defaulted")
    return (
        ok.explode("defaulted")
        .drop_nulls("defaulted")
        .group_by("point", "defaulted")
        .len()
        .rename({"defaulted": "firm", "len": "runs"})
        .sort(["point", "runs", "firm"], descending=[False, True, False])
    )
