"""Statistics of replicated runs: the mean and Student's t confidence interval of the mean.

One implementation, :func:`group_mean_interval`, serves every use: sweeps summarize each point
and chart each parameter with it (per group of a frame), and claims judge a scenario by the
interval of its paired differences (:func:`mean_interval`, one sample of values).

    >>> mean, low, high = mean_interval([1.0, 2.0, 3.0])
    >>> round(low, 3), mean, round(high, 3)
    (-0.484, 2.0, 4.484)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import polars as pl

#: the confidence level of every interval unless told otherwise
LEVEL = 0.95


def t_quantile(q: float, dof: int | float | np.ndarray) -> float | np.ndarray:
    """The ``q`` quantile of Student's t with ``dof`` degrees of freedom (NaN below 1)."""
    from scipy.stats import t as student_t

    if np.ndim(dof) == 0:
        return float(student_t.ppf(q, dof)) if dof >= 1 else math.nan
    dof = np.asarray(dof, dtype=float)
    with np.errstate(invalid="ignore"):
        return student_t.ppf(q, np.where(dof >= 1, dof, np.nan))


def t975(dof: int) -> float:
    """The 97.5% quantile of Student's t with ``dof`` degrees of freedom (NaN below 1)."""
    return t_quantile(0.975, dof)


def group_mean_interval(
    frame: pl.DataFrame, by: Sequence[str], columns: Sequence[str], level: float = LEVEL
) -> pl.DataFrame:
    """Per group of ``by``: for each column its mean and a ``level`` confidence interval of the
    mean (Student's t: mean ± t(n−1) · sd / √n over the group's non-null values), as
    ``{column}_mean``, ``{column}_lo``, ``{column}_hi``. The interval is null below two values;
    NaN counts as missing."""
    frame = frame.with_columns(pl.col(c).cast(pl.Float64).fill_nan(None) for c in columns)
    stats = frame.group_by(list(by), maintain_order=True).agg(
        *(pl.col(c).mean().alias(f"{c}_mean") for c in columns),
        *(pl.col(c).std().alias(f"{c}_sd") for c in columns),
        *(pl.col(c).count().alias(f"{c}_n") for c in columns),
    )
    q = 0.5 + level / 2
    out = []
    for c in columns:
        n = stats[f"{c}_n"].to_numpy().astype(float)
        sd = stats[f"{c}_sd"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            half = t_quantile(q, n - 1) * sd / np.sqrt(n)
        half_col = pl.Series(half).fill_nan(None)
        mean = pl.col(f"{c}_mean")
        out += [mean, (mean - half_col).alias(f"{c}_lo"), (mean + half_col).alias(f"{c}_hi")]
    return stats.select(*by, *out)


def mean_interval(
    values: Iterable[float | None], level: float = LEVEL
) -> tuple[float, float, float]:
    """Mean and ``level`` t-interval of ``values`` (None, NaN and infinities dropped), by
    :func:`group_mean_interval`; the mean is NaN without values, the interval below two."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    frame = pl.DataFrame(
        {"group": [0] * len(finite), "value": finite},
        schema={"group": pl.Int64, "value": pl.Float64},
    )
    row = (
        group_mean_interval(frame, ["group"], ["value"], level).row(0, named=True) if finite else {}
    )
    mean, low, high = (row.get(f"value_{k}") for k in ("mean", "lo", "hi"))
    return tuple(math.nan if x is None else float(x) for x in (mean, low, high))
