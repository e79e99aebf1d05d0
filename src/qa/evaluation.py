"""The evaluation suite behind ``qa eval``: deterministic metrics, a table, JSON and Markdown reports.

Data: ``eval/data/<category>.jsonl``. Floors: ``eval/floors.json``. Nothing here
needs a language model: key facts are matched after NFKC, case folding and
amount normalisation (``3,320億ドル`` = ``$332 billion``).
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from qa.compose import BLOG_PREFIX
from qa.config import PROJECT_ROOT, Settings
from qa.numbers import amount_tokens
from qa.text import detect_language, normalize, plain, tokens

EVAL_DIR = PROJECT_ROOT / "eval"
CATEGORIES = ("faq", "facts", "crosslingual", "unanswerable", "followups", "conflicts")
DIRECTIONS = ("ja→ja", "en→en", "ja→en", "en→ja")
_MARKER = re.compile(r"\[(\d+)\]")


# ---------------------------------------------------------------- matching


def fact_in(fact: str | list[str], text: str) -> bool:
    """A key fact (or any of its alternatives) is in ``text``, after normalisation."""
    alternatives = [fact] if isinstance(fact, str) else list(fact)
    haystack = normalize(plain(text)).replace("**", "")
    amounts = amount_tokens(text)
    for alt in alternatives:
        wanted = amount_tokens(alt)
        if wanted and wanted <= amounts:
            return True
        if normalize(alt) in haystack:
            return True
    return False


def answer_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """``(sentence, [citation numbers])`` for each marked sentence of an answer."""
    out = []
    for piece in re.split(r"(?<=\])\.?\s*(?=\S)|(?<=[。.])\s+(?=\S)", answer):
        numbers = [int(n) for n in _MARKER.findall(piece)]
        text = _MARKER.sub("", piece).strip()
        if text.strip(" .。"):
            out.append((text, numbers))
    return out


def supports(passage: str, sentence: str) -> bool:
    """The passage holds the sentence's facts: its amounts and nearly all its content terms.

    "According to the article" says where a sentence comes from, not what it claims: it is left out."""
    for prefix in BLOG_PREFIX.values():
        sentence = sentence.removeprefix(prefix)
    if not amount_tokens(sentence) <= amount_tokens(passage):
        return False
    terms = set(tokens(sentence))
    return not terms or len(terms & set(tokens(passage))) / len(terms) >= 0.8


# ---------------------------------------------------------------- items and results


@dataclass
class Result:
    item: dict
    category: str
    lang: str
    answerable: bool
    abstained: bool
    language_ok: bool
    fact_recall: float | None = None
    citation_precision: float | None = None
    citation_recall: float | None = None
    conflict_found: bool | None = None
    latency_ms: float = 0.0
    retrieval: dict[str, dict[str, float]] = field(default_factory=dict)  # mode -> direction -> (recall@5, rr)
    answer: dict = field(default_factory=dict)


def load_items(data_dir: Path, categories: tuple[str, ...]) -> list[tuple[str, dict]]:
    items = []
    for category in categories:
        path = data_dir / f"{category}.jsonl"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    items.append((category, json.loads(line)))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{n}: not JSON ({err.msg})") from None
    return items


def gold_blocks(item: dict, store) -> set[str]:
    """Block keys of the item's gold quotes (found in the Japanese chunks)."""
    keys = set()
    for gold in item.get("gold", []):
        matches = {
            c.block_key for c in store.chunks
            if c.doc == gold["doc"] and c.lang == "ja" and gold["quote"] in c.text
        }
        if not matches:
            raise ValueError(f"eval item {item['id']}: gold quote not found in {gold['doc']}: {gold['quote']!r}")
        keys |= matches
    return keys


def score_item(category: str, item: dict, chain, retrievers: dict, store) -> Result:
    """Ask the item's question(s) and score the answer and retrieval."""
    exclude_faq = category == "faq"
    history = []
    question = item.get("question") or item["followup"]
    if category == "followups":
        first = chain.invoke({"question": item["first"], "history": []})
        history = [{"role": "user", "content": item["first"]}, {"role": "assistant", "content": first.answer}]
    answer = chain.invoke({"question": question, "history": history, "exclude_faq": exclude_faq})
    answerable = category != "unanswerable"
    result = Result(
        item=item, category=category, lang=item["lang"], answerable=answerable, abstained=answer.abstained,
        language_ok=answer.language == item["lang"] and detect_language(answer.answer) == item["lang"],
        latency_ms=answer.timings.get("total", 0.0), answer=answer.to_dict(),
    )
    if not answerable:
        return result
    facts = item.get("key_facts", [])
    result.fact_recall = sum(fact_in(f, answer.answer) for f in facts) / len(facts) if facts and not answer.abstained else 0.0
    passages = {c.n: c.text for c in answer.citations}
    pairs = [(s, n) for s, numbers in answer_sentences(answer.answer) for n in numbers]
    if pairs:
        result.citation_precision = sum(supports(passages.get(n, ""), s) for s, n in pairs) / len(pairs)
    found = [f for f in facts if fact_in(f, answer.answer)]
    if found:
        result.citation_recall = sum(
            any(fact_in(f, s) and any(fact_in(f, passages.get(n, "")) for n in numbers)
                for s, numbers in answer_sentences(answer.answer))
            for f in found
        ) / len(found)
    if category == "conflicts":
        result.conflict_found = bool(answer.conflicts)
    keys = gold_blocks(item, store)
    search_text = question if not history else f"{question} {item['first']}"
    for mode, retriever in retrievers.items():
        # The system returns blocks: each carries its passage in both languages, so the passage in
        # language T is retrieved when its block is. "-monolingual" searches the T index alone.
        fused = retriever.search(search_text, exclude_faq=exclude_faq, store=store, k=10)
        result.retrieval[mode] = {}
        result.retrieval[f"{mode}-monolingual"] = {}
        for target in ("ja", "en"):
            direction = f"{item['lang']}→{target}"
            alone = retriever.search(search_text, langs=(target,), exclude_faq=exclude_faq, store=store, k=10)
            for name, hits in ((mode, fused), (f"{mode}-monolingual", alone)):
                hits = [h for h in hits if target in h.chunks]
                rank = next((i for i, h in enumerate(hits) if h.key in keys), None)
                result.retrieval[name][direction] = (
                    float(rank is not None and rank < 5), 1.0 / (rank + 1) if rank is not None else 0.0
                )
    return result


# ---------------------------------------------------------------- aggregation


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.fmean(values), 3) if values else None


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summarise(results: list[Result]) -> dict:
    """Metrics per category and language, overall, and retrieval per direction and mode."""
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(f"{r.category}/{r.lang}", []).append(r)
        groups.setdefault(r.category, []).append(r)
    table = {}
    for name, rs in sorted(groups.items()):
        answerable = [r for r in rs if r.answerable]
        unanswerable = [r for r in rs if not r.answerable]
        table[name] = {
            "n": len(rs),
            "key_fact_recall": _mean(r.fact_recall for r in answerable),
            "citation_precision": _mean(r.citation_precision for r in answerable),
            "citation_recall": _mean(r.citation_recall for r in answerable),
            "false_refusal": _mean(float(r.abstained) for r in answerable) if answerable else None,
            "refused": _mean(float(r.abstained) for r in unanswerable) if unanswerable else None,
            "language_ok": _mean(float(r.language_ok) for r in rs),
            "conflicts_found": _mean(r.conflict_found for r in rs if r.conflict_found is not None),
        }
    retrieval: dict[str, dict[str, dict[str, float]]] = {}
    modes = sorted({m for r in results for m in r.retrieval})
    for mode in modes:
        retrieval[mode] = {}
        for direction in DIRECTIONS:
            scores = [r.retrieval[mode][direction] for r in results if direction in r.retrieval.get(mode, {})]
            if scores:
                retrieval[mode][direction] = {
                    "n": len(scores),
                    "recall@5": round(statistics.fmean(s[0] for s in scores), 3),
                    "mrr@10": round(statistics.fmean(s[1] for s in scores), 3),
                }
    latencies = [r.latency_ms for r in results]
    answerable = [r for r in results if r.answerable and r.category != "faq"]
    return {
        "table": table,
        "retrieval": retrieval,
        "overall": {
            "answerable_false_refusal": _mean(float(r.abstained) for r in answerable),
            "unanswerable_refused": _mean(float(r.abstained) for r in results if not r.answerable),
            "language_ok": _mean(float(r.language_ok) for r in results),
        },
        "latency_ms": {
            "p50": round(_percentile(latencies, 0.5), 1), "p95": round(_percentile(latencies, 0.95), 1),
            "max": round(max(latencies, default=0.0), 1),
        },
    }


def check_floors(summary: dict, floors: dict) -> list[str]:
    """Every floor the summary falls below, as readable lines."""
    failures = []
    for path, floor in floors.items():
        if path.startswith("_"):
            continue
        value: object = summary
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            continue
        is_ceiling = path.endswith("false_refusal")
        if (value > floor) if is_ceiling else (value < floor):
            failures.append(f"{path} = {value} ({'ceiling' if is_ceiling else 'floor'} {floor})")
    return failures


# ---------------------------------------------------------------- output


def format_table(summary: dict) -> str:
    cols = ("n", "key_fact_recall", "citation_precision", "citation_recall", "false_refusal", "refused", "language_ok")
    heads = ("n", "facts", "cite P", "cite R", "false ref", "refused", "lang")
    lines = [f"{'category':<20}" + "".join(f"{h:>10}" for h in heads)]
    for name, row in summary["table"].items():
        cells = "".join(f"{'' if row[c] is None else row[c]:>10}" for c in cols)
        lines.append(f"{name:<20}{cells}")
    lines.append("")
    lines.append(f"{'retrieval':<20}" + "".join(f"{d + ' R@5':>14}" for d in DIRECTIONS))
    for mode, by_dir in summary["retrieval"].items():
        cells = "".join(f"{by_dir.get(d, {}).get('recall@5', ''):>14}" for d in DIRECTIONS)
        lines.append(f"{mode:<20}{cells}")
    lines.append(f"{'  (MRR@10)':<20}" + "".join(
        f"{summary['retrieval'].get('hybrid', {}).get(d, {}).get('mrr@10', ''):>14}" for d in DIRECTIONS))
    lat = summary["latency_ms"]
    lines.append(f"\nlatency per question: p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms")
    return "\n".join(lines)


def write_reports(summary: dict, results: list[Result], out_dir: Path, config: dict, failures: list[str]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {"config": config, "summary": summary, "failures": failures,
              "items": [{"id": r.item["id"], "category": r.category, "lang": r.lang, "abstained": r.abstained,
                         "fact_recall": r.fact_recall, "citation_precision": r.citation_precision,
                         "latency_ms": round(r.latency_ms, 1), "answer": r.answer["answer"],
                         "retrieval": r.retrieval} for r in results]}
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    chart = _chart(summary, out_dir / "report.png")
    misses = [r for r in results if (r.answerable and (r.fact_recall or 0) < 1) or (not r.answerable and not r.abstained)]
    lines = [
        "# Evaluation report", "",
        f"Configuration: `{json.dumps(config, ensure_ascii=False)}`", "",
        "```", format_table(summary), "```", "",
        f"![metrics per category]({chart.name})" if chart else "", "",
        "## Floors", "", *(f"- FAILED {f}" for f in failures), "" if failures else "All floors met.", "",
        "## Misses", "",
        "| id | question | answer |", "|---|---|---|",
        *(f"| {r.item['id']} | {r.item.get('question') or r.item.get('followup')} | {r.answer['answer'][:160]} |"
          for r in misses),
    ]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _chart(summary: dict, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = {k: v for k, v in summary["table"].items() if "/" not in k}
    metrics = ("key_fact_recall", "citation_precision", "language_ok")
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / (len(metrics) + 1)
    for i, metric in enumerate(metrics):
        ax.bar([x + i * width for x in range(len(rows))], [rows[r][metric] or 0 for r in rows], width, label=metric)
    ax.bar([x + len(metrics) * width for x in range(len(rows))],
           [rows[r]["refused"] if rows[r]["refused"] is not None else 1 - (rows[r]["false_refusal"] or 0) for r in rows],
           width, label="correct refusal decision")
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(rows))], list(rows))
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("qa eval: metrics per category")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- running


def run(settings: Settings, categories: tuple[str, ...] = CATEGORIES, ablation: bool = True,
        data_dir: Path = EVAL_DIR / "data", show_progress: bool = True, llm=None) -> tuple[dict, list[Result]]:
    """Run the suite with ``settings``; return the summary and per-item results."""
    from tqdm import tqdm

    from qa.chain import build_chain
    from qa.retriever import HybridRetriever

    chain = build_chain(settings, llm=llm)
    store = chain.index.get()
    modes = ("hybrid", "dense", "lexical") if ablation else ("hybrid",)
    retrievers = {m: HybridRetriever(index=chain.index, embedder=chain.embedder, mode=m) for m in modes}
    items = load_items(data_dir, categories)
    results = [
        score_item(category, item, chain, retrievers, store)
        for category, item in tqdm(items, desc="eval", unit="q", disable=not show_progress, file=sys.stderr)
    ]
    return summarise(results), results


def load_floors(path: Path = EVAL_DIR / "floors.json") -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def main(args) -> int:
    """``qa eval``: print the table, write reports, exit 1 when a floor is missed."""
    settings = Settings()
    changes = {k: v for k, v in (("embedder", args.embedder), ("llm", args.llm), ("top_k", args.k)) if v}
    if args.embedder and args.embedder != settings.embedder and "QA_INDEX_DIR" not in __import__("os").environ:
        changes["index_dir"] = settings.index_dir.parent / "index-eval" / re.sub(r"[^\w.-]+", "_", args.embedder)
    settings = settings.with_(**changes)
    if args.embedder:
        from qa.index import build_index

        build_index(settings)
    categories = tuple(args.category) if args.category else CATEGORIES
    unknown = set(categories) - set(CATEGORIES)
    if unknown:
        from qa.query import QuestionError

        raise QuestionError(f"unknown category {sorted(unknown)}; choose from {', '.join(CATEGORIES)}")
    started = time.perf_counter()
    summary, results = run(settings, categories, ablation=not args.no_ablation)
    floors = load_floors() if categories == CATEGORIES and not changes else {}
    failures = check_floors(summary, floors)
    config = {"embedder": settings.embedder, "llm": settings.llm or "extractive", "top_k": settings.top_k,
              "categories": list(categories), "seconds": round(time.perf_counter() - started, 1)}
    out_dir = Path(args.out) if args.out else EVAL_DIR
    write_reports(summary, results, out_dir, config, failures)
    print(format_table(summary))
    print(f"\nreports: {out_dir / 'report.json'}, {out_dir / 'report.md'}")
    for failure in failures:
        print(f"below floor: {failure}", file=sys.stderr)
    return 1 if failures else 0
