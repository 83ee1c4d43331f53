"""Spearman rank correlation with a claim only when the sample can bear one."""

from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import spearmanr  # type: ignore[import-untyped]  # no stubs installed

MIN_SAMPLE = 30


@dataclass(frozen=True)
class Correlation:
    n: int
    rho: float | None
    p_value: float | None
    """Two-sided, against no monotonic association (scipy's t approximation)."""
    reason: str | None
    """Why there is no claim (rho and p_value null), else None."""


def spearman(xs: Sequence[float], ys: Sequence[float], *, min_sample: int = MIN_SAMPLE) -> Correlation:
    """Spearman's rho of paired samples: null with a reason when n < min_sample or either side never varies."""
    if len(xs) != len(ys):
        raise ValueError("xs and ys must pair up")
    n = len(xs)
    if n < min_sample:
        return Correlation(n, None, None, f"sample too small: n = {n} < {min_sample}")
    for name, values in (("usage", xs), ("outcome", ys)):
        if len(set(values)) < 2:
            return Correlation(n, None, None, f"no variation in {name}: every customer has the same value")
    result = spearmanr(xs, ys)
    return Correlation(n, round(float(result.statistic), 4), float(result.pvalue), None)
