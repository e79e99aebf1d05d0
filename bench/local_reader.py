"""Benchmark of the local reader: model load, first-token and full-answer latency (warm), peak RSS.

    .venv/bin/python bench/local_reader.py [QUESTION ...]     # the built-in questions without arguments

``run(settings, questions)`` is what ``qa bench --reader local`` calls; it prints the first-token, answer
and memory figures against their goals. Warm means as in a running chat: the reader has read its fixed
prompt starts (``prime``, timed apart) and answered one question that is not timed. Each question goes
through the chain's retrieval and extractive reader first (not timed: that is the extractive benchmark's
job), then the local reader streams its answer; first token = the first text piece it yields, or the
whole answer when it comes in one piece. Rows say which reader's answer was given (the model, or the
extractive one it kept).
"""

from __future__ import annotations

import logging
import os
import resource
import statistics
import sys
import time
from typing import Any

from qa.chain import build_chain
from qa.config import Settings
from qa.readers.base import Draft

log = logging.getLogger("qa.bench.local_reader")

FIRST_TOKEN_P50_S, FULL_ANSWER_P50_S, PEAK_RSS_MB = 1.5, 4.0, 2500  # the goals, warm, on 2 cores

WARM_UP = "日立は何を供給しますか？"
QUESTIONS = [
    "フジクラの投資額は？",
    "What will Toshiba supply?",
    "東芝と日立の投資額の合計はいくらですか？",
    "Is Westinghouse building AP1000 reactors?",
    "What are the main points of the energy cooperation?",
    "三菱電機とTDKのどちらの投資額が大きいですか？",
]


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run(settings: Settings | None, questions: list[str] | None = None) -> dict[str, Any]:
    """Time the local reader on ``questions`` (one warm-up first) and print the figures; returns them."""
    from qa.readers.local import LocalReader

    settings = settings or Settings()
    chain = build_chain(settings)
    started = time.perf_counter()
    reader = LocalReader(settings)
    engine = reader.model._engine()
    load = time.perf_counter() - started
    questions = questions or QUESTIONS
    requests = [chain.read_request(q) for q in questions]
    clock = time.perf_counter()
    reader.prime()
    prime_s = time.perf_counter() - clock
    reader.read(chain.read_request(WARM_UP))  # no timed passage enters the cache
    first_token: list[float] = []
    full: list[float] = []
    rows: list[dict[str, Any]] = []
    for question, request in zip(questions, requests):
        clock = time.perf_counter()
        first = None
        draft = request.baseline
        for item in reader.stream(request):
            if isinstance(item, Draft):
                draft = item
            elif first is None:
                first = time.perf_counter() - clock
        total = time.perf_counter() - clock
        first = total if first is None else first  # the answer came in one piece
        full.append(total)
        first_token.append(first)
        text = " ".join(s.text for s in draft.sentences) if not draft.abstained else "(abstained)"
        rows.append({"question": question, "reader": draft.reader, "first_token_s": first, "total_s": total,
                     "answer": text})
        print(f"{total:6.2f}s  first {first:5.2f}s  [{draft.reader}] "
              f"{question} -> {text[:160]}")
    written = [r for r in rows if r["reader"] != "extractive"]  # the model wrote (part of) these
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "model": str(engine.path), "load_s": round(engine.load_seconds, 2), "reader_init_s": round(load, 2),
        "prime_s": round(prime_s, 1),
        "first_token_p50_s": round(_p50(first_token), 2), "full_answer_p50_s": round(_p50(full), 2),
        "peak_rss_mb": round(peak_mb), "questions": len(questions), "model_answered": len(written),
        "model_first_token_p50_s": round(_p50([r["first_token_s"] for r in written]), 2),
        "model_full_answer_p50_s": round(_p50([r["total_s"] for r in written]), 2),
        "load_average": list(os.getloadavg()), "rows": rows,
    }
    print(f"load {figures['load_s']} s; prompt starts read in {figures['prime_s']} s; first token p50 {figures['first_token_p50_s']} s; full answer p50 "
          f"{figures['full_answer_p50_s']} s; peak RSS {figures['peak_rss_mb']} MB; "
          f"model answered {figures['model_answered']}/{len(questions)} (first token p50 "
          f"{figures['model_first_token_p50_s']} s, full answer p50 {figures['model_full_answer_p50_s']} s); "
          f"load average {figures['load_average']}")
    for name, value, ceiling in (("first token p50 (s)", figures["first_token_p50_s"], FIRST_TOKEN_P50_S),
                                 ("full answer p50 (s)", figures["full_answer_p50_s"], FULL_ANSWER_P50_S),
                                 ("peak RSS (MB)", figures["peak_rss_mb"], PEAK_RSS_MB)):
        print(f"{name}: {value} (ceiling {ceiling}: {'met' if value <= ceiling else 'NOT met'})")
    return figures


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    run(Settings(), sys.argv[1:] or None)
