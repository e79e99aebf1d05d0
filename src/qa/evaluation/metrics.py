"""Aggregating item results: per category and language, overall, per paraphrase family, retrieval; floors."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

from qa.evaluation.scoring import Result
from qa.stats import percentile

DIRECTIONS = ("ja→ja", "en→en", "ja→en", "en→ja", "ja→*", "en→*")
CEILING_SUFFIXES = ("false_refusal",)


def mean(values: Iterable[float | bool | None]) -> float | None:
    """The rounded mean of the values that are not None (booleans count as 0/1); None when there are none."""
    numbers = [float(v) for v in values if v is not None]
    return round(statistics.fmean(numbers), 3) if numbers else None


def _row(rs: list[Result]) -> dict[str, Any]:
    answerable = [r for r in rs if r.answerable]
    unanswerable = [r for r in rs if not r.answerable]
    return {
        "n": len(rs),
        "correct": mean(r.correct for r in rs),
        "key_fact_recall": mean(r.fact_recall for r in answerable),
        "correct_clause": mean(r.correct_clause for r in answerable),
        "gold_clause_support": mean(r.gold_clause_support for r in answerable),
        "citation_precision": mean(r.citation_precision for r in answerable),
        "gold_cited": mean(r.gold_cited for r in answerable),
        "false_refusal": mean(r.abstained for r in answerable) if answerable else None,
        "refused": mean(r.abstained for r in unanswerable) if unanswerable else None,
        "language_ok": mean(r.language_ok for r in rs),
        "polarity": mean(r.polarity_ok for r in rs),
        "premise": mean(r.premise_ok for r in rs),
        "premise_corrected": mean(r.premise_corrected for r in rs),
        "conflicts_found": mean(r.conflict_found for r in rs),
    }


def families(results: list[Result]) -> dict[str, dict[str, Any]]:
    """Per paraphrase family: correctness per wording, the worst wording's and the mean."""
    grouped: dict[str, dict[str, list[bool]]] = {}
    for r in results:
        if r.family:
            grouped.setdefault(r.family, {}).setdefault(r.wording or "?", []).append(r.correct)
    out: dict[str, dict[str, Any]] = {}
    for family, wordings in sorted(grouped.items()):
        by_wording = {w: mean(v) for w, v in sorted(wordings.items())}
        # no wording is empty, so no mean is None
        out[family] = {"wordings": by_wording, "worst": min(by_wording.values()),  # type: ignore[type-var]
                       "mean": mean(c for v in wordings.values() for c in v)}
    return out


def summarise(results: list[Result]) -> dict[str, Any]:
    """Metrics per category and per category/language, overall, per family, retrieval and latency."""
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.category, []).append(r)
        groups.setdefault(f"{r.category}/{r.lang}", []).append(r)
    table = {name: _row(rs) for name, rs in sorted(groups.items())}
    fams = families(results)
    answerable = [r for r in results if r.answerable and r.category != "faq"]
    latencies = [r.latency_ms for r in results]
    return {
        "table": table,
        "families": fams,
        "retrieval": _retrieval(results),
        "overall": {
            "n": len(results),
            "correct": mean(r.correct for r in results),
            "answerable_key_fact_recall": mean(r.fact_recall for r in answerable),
            "answerable_false_refusal": mean(r.abstained for r in answerable),
            "unanswerable_refused": mean(r.abstained for r in results if not r.answerable),
            "correct_clause": mean(r.correct_clause for r in answerable),
            "gold_clause_support": mean(r.gold_clause_support for r in answerable),
            "citation_precision": mean(r.citation_precision for r in answerable),
            "language_ok": mean(r.language_ok for r in results),
            "worst_wording_accuracy": mean(f["worst"] for f in fams.values()),
            "family_mean_accuracy": mean(f["mean"] for f in fams.values()),
        },
        "latency_ms": {"p50": round(percentile(latencies, 0.5), 1), "p95": round(percentile(latencies, 0.95), 1),
                       "max": round(max(latencies, default=0.0), 1)},
    }


def _retrieval(results: list[Result]) -> dict[str, dict[str, dict[str, float | None]]]:
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for mode in sorted({m for r in results for m in r.retrieval}):
        out[mode] = {}
        for direction in DIRECTIONS:
            scores = [r.retrieval[mode][direction] for r in results if direction in r.retrieval.get(mode, {})]
            if scores:
                out[mode][direction] = {"n": len(scores), "recall@5": mean(s[0] for s in scores),
                                        "mrr@10": mean(s[1] for s in scores)}
    return out


def floors_for(floors: dict[str, Any], split: str, reader: str) -> dict[str, float]:
    """The floors of one split for one reader: the split's own, with the reader's (``readers.<name>``) on top."""
    own = floors.get(split, {})
    merged = {k: v for k, v in own.items() if not k.startswith("_") and k != "readers"}
    merged.update(own.get("readers", {}).get(reader, {}))
    return merged


def lookup(summary: dict[str, Any], path: str) -> Any:
    value: object = summary
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_floors(summary: dict[str, Any], floors: dict[str, float]) -> tuple[list[str], list[str]]:
    """The floors the summary falls below (as readable lines), and the floor paths it did not measure."""
    failures, unmeasured = [], []
    for path, floor in floors.items():
        value = lookup(summary, path)
        if value is None:
            unmeasured.append(path)
            continue
        is_ceiling = path.endswith(CEILING_SUFFIXES)
        if (value > floor) if is_ceiling else (value < floor):
            failures.append(f"{path} = {value} ({'ceiling' if is_ceiling else 'floor'} {floor})")
    return failures, unmeasured
