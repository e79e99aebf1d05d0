"""The eval's output: a text table with one column group per (split, reader) run, JSON and Markdown reports."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from qa.evaluation.metrics import DIRECTIONS
from qa.evaluation.scoring import Result, question_of

log = logging.getLogger("qa.evaluation")

# (summary key, column head); "refused" is a ceiling on answerable rows and a floor on unanswerable ones
COLUMNS = (("n", "n"), ("correct", "correct"), ("key_fact_recall", "facts"), ("correct_clause", "clause"),
           ("gold_clause_support", "g.sup"), ("citation_precision", "citeP"), ("refused_any", "refused"),
           ("language_ok", "lang"))
COMPACT = (("n", "n"), ("correct", "correct"), ("key_fact_recall", "facts"), ("refused_any", "refused"),
           ("language_ok", "lang"))
OVERALL = ("correct", "answerable_key_fact_recall", "answerable_false_refusal", "unanswerable_refused",
           "correct_clause", "gold_clause_support", "citation_precision", "language_ok",
           "worst_wording_accuracy", "family_mean_accuracy")
WIDTH = 8
FROZEN_SPLITS = ("test",)  # reported in aggregate only: its questions and answers are not listed


def _frozen(run_name: str) -> bool:
    return run_name.split()[0] in FROZEN_SPLITS


def _cell(value: object) -> str:
    return f"{'' if value is None else value:>{WIDTH}}"


def _value(row: dict[str, Any], key: str) -> Any:
    if key == "refused_any":
        return row["refused"] if row["refused"] is not None else row["false_refusal"]
    return row.get(key)


def format_table(runs: dict[str, dict[str, Any]]) -> str:
    """One table for several runs (``"<split> <reader>"`` → summary), side by side."""
    names = list(runs)
    columns = COLUMNS if len(names) <= 2 else COMPACT
    group = WIDTH * len(columns) + 2
    rows = sorted({row for s in runs.values() for row in s["table"]})
    lines = [f"{'':<18}" + "".join(f"  {name:<{group - 2}}" for name in names),
             f"{'category':<18}" + "".join("  " + "".join(f"{h:>{WIDTH}}" for _, h in columns) for _ in names)]
    for row in rows:
        cells = ""
        for summary in runs.values():
            data = summary["table"].get(row)
            cells += "  " + "".join(_cell(_value(data, k) if data else None) for k, _ in columns)
        lines.append(f"{row:<18}{cells}")
    lines += ["", f"{'overall':<28}" + "".join(f"{name:>{max(len(name), WIDTH) + 2}}" for name in names)]
    for key in OVERALL:
        lines.append(f"{key:<28}" + "".join(f"{_fmt(s['overall'].get(key)):>{max(len(name), WIDTH) + 2}}"
                                            for name, s in runs.items()))
    lines += ["", _retrieval_table(runs), "", "latency per question (p50 / p95 / max ms): " + "; ".join(
        f"{name} {s['latency_ms']['p50']} / {s['latency_ms']['p95']} / {s['latency_ms']['max']}"
        for name, s in runs.items())]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    return "" if value is None else str(value)


def _retrieval_table(runs: dict[str, dict[str, Any]]) -> str:
    """Recall@5 per direction (S→T: the T index alone; S→*: both) and mode, once per split."""
    lines = [f"{'retrieval R@5 (MRR@10)':<26}" + "".join(f"{d:>15}" for d in DIRECTIONS)]
    seen = set()
    for name, summary in runs.items():
        split = name.split()[0]
        if split in seen:
            continue
        seen.add(split)
        for mode, by_dir in summary["retrieval"].items():
            cells = "".join(
                f"{(str(by_dir[d]['recall@5']) + ' (' + str(by_dir[d]['mrr@10']) + ')') if d in by_dir else '':>15}"
                for d in DIRECTIONS)
            lines.append(f"{split + ' ' + mode:<26}{cells}")
    return "\n".join(lines)


def format_families(summary: dict[str, Any]) -> list[str]:
    """Markdown rows: per family, each wording's correctness, the worst and the mean."""
    fams = summary["families"]
    if not fams:
        return ["No paraphrase families in this split."]
    wordings = sorted({w for f in fams.values() for w in f["wordings"]})
    lines = ["| family | " + " | ".join(wordings) + " | worst | mean |", "|---" * (len(wordings) + 3) + "|"]
    for name, f in fams.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(f["wordings"].get(w)) for w in wordings)
                     + f" | {f['worst']} | {f['mean']} |")
    return lines


def write_reports(out_dir: Path, config: dict[str, Any], runs: dict[str, dict[str, Any]],
                  results: dict[str, list[Result]],
                  failures: dict[str, list[str]], unmeasured: dict[str, list[str]]) -> list[Path]:
    """``report.json``, ``report.md`` and (with matplotlib) ``report.png`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "config": config,
        "runs": {name: {"summary": runs[name], "failures": failures.get(name, []),
                        "unmeasured_floors": unmeasured.get(name, []),
                        "items": [_item_row(r, with_text=not _frozen(name)) for r in results[name]]}
                 for name in runs},
    }
    written = [out_dir / "report.json"]
    written[0].write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    chart = _chart(runs, out_dir / "report.png")
    lines = ["# Evaluation report", "", f"Configuration: `{json.dumps(config, ensure_ascii=False)}`", "",
             "```", format_table(runs), "```", ""]
    if chart:
        lines += [f"![correctness per category]({chart.name})", ""]
        written.append(chart)
    for name, summary in runs.items():
        lines += [f"## {name}", "", "### Floors", ""]
        lines += [f"- FAILED {f}" for f in failures.get(name, [])] or ["All floors met."]
        lines += [f"- not measured: {p}" for p in unmeasured.get(name, [])]
        lines += ["", "### Paraphrase families (correct per wording)", "", *format_families(summary), "",
                  "### Misses", ""]
        if _frozen(name):
            lines += ["The test split is frozen: its misses are not listed (judge changes on dev).", ""]
            continue
        lines += ["| id | question | answer |", "|---|---|---|"]
        lines += [f"| {r.item['id']} | {_md(question_of(r.item))} | {_md(r.answer.get('answer', ''))[:160]} |"
                  for r in results[name] if not r.correct]
        lines.append("")
    written.append(out_dir / "report.md")
    written[-1].write_text("\n".join(lines), encoding="utf-8")
    return written


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _item_row(r: Result, with_text: bool = True) -> dict[str, Any]:
    row = {"id": r.item["id"], "category": r.category, "lang": r.lang, "family": r.family, "wording": r.wording,
           "correct": r.correct, "abstained": r.abstained, "fact_recall": r.fact_recall,
           "correct_clause": r.correct_clause, "gold_clause_support": r.gold_clause_support,
           "citation_precision": r.citation_precision, "latency_ms": round(r.latency_ms, 1), "retrieval": r.retrieval}
    if with_text:
        row["answer"] = r.answer.get("answer", "")
    return row


def _chart(runs: dict[str, dict[str, Any]], path: Path) -> Path | None:
    """Correct share per category, one bar per run."""
    try:
        import matplotlib
    except ImportError:
        log.info("matplotlib is not installed: no %s", path.name)
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    categories = sorted({c for s in runs.values() for c in s["table"] if "/" not in c})
    fig, ax = plt.subplots(figsize=(max(8, len(categories) * 0.9), 4))
    width = 0.8 / max(1, len(runs))
    for i, (name, summary) in enumerate(runs.items()):
        values = [(summary["table"].get(c) or {}).get("correct") or 0 for c in categories]
        ax.bar([x + i * width for x in range(len(categories))], values, width, label=name)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(categories))], categories, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("correct")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("qa eval: correct answers per category")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
