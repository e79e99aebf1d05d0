"""Percentiles and the latency summary every report uses (eval, bench, load test)."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 ≤ q ≤ 1) by linear interpolation between closest ranks; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float], digits: int = 2) -> dict[str, float]:
    """``n``, ``p50``, ``p95`` and ``max`` of ``values``, rounded to ``digits``."""
    return {"n": len(values), "p50": round(percentile(values, 0.5), digits),
            "p95": round(percentile(values, 0.95), digits), "max": round(max(values, default=0.0), digits)}
