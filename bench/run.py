"""Running the whole benchmark: every measurement in order, the report written to ``bench/out/``."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import logging
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import ENV, OUT_DIR, eval_questions
from bench.measure import (
    measure_chat_memory, measure_cold_stages, measure_cold_start, measure_imports, measure_indexing,
    measure_our_recall, measure_warm,
)
from bench.peer import compare, measure_peer
from bench.report import check_floors, format_table
from bench.scale import QUICK_SIZES, SIZES, measure_scale, plot_scale
from qa.config import Settings

log = logging.getLogger("qa.bench")

COLD_RUNS = {False: 5, True: 2}  # by --quick
CHAT_QUESTIONS = {False: 100, True: 20}


@contextlib.contextmanager
def _section(spent: dict[str, float], name: str) -> Iterator[None]:
    """Log the start of a section and record its seconds in ``spent``."""
    log.info("bench: %s …", name)
    clock = time.perf_counter()
    yield
    spent[name] = round(time.perf_counter() - clock, 1)


def run_bench(quick: bool, out_dir: Path) -> dict[str, Any]:
    """Every measurement; the peer and the scale runs in their own processes, so none disturbs another."""
    from qa.index import build_index

    os.environ.update(ENV)
    started = time.perf_counter()
    settings = Settings()
    build_index(settings, show_progress=False)  # the measured index is the current one
    questions = eval_questions()
    spent: dict[str, float] = {}
    result: dict[str, Any] = {"meta": {
        "started": datetime.datetime.now().isoformat(timespec="seconds"), "quick": quick, "cpus": os.cpu_count(),
        "python": platform.python_version(), "platform": platform.platform(), "index": str(settings.index_dir),
        "load_average_start": [round(x, 2) for x in os.getloadavg()], "section_s": spent,
    }}
    with _section(spent, "cold start"):
        result["cold_start"] = measure_cold_start(COLD_RUNS[quick])
        result["cold_start"]["stages"] = measure_cold_stages()
        result["cold_start"]["imports"] = measure_imports()
    with _section(spent, "indexing"):
        result["indexing"] = measure_indexing()
    with _section(spent, "chat memory"):
        result["memory"] = measure_chat_memory(questions, CHAT_QUESTIONS[quick])
        result["memory"]["qa_ask_peak_rss_mib"] = result["cold_start"]["peak_rss_mib"]
    with _section(spent, "scale"):
        result["scale"] = measure_scale(QUICK_SIZES if quick else SIZES, questions)
    with _section(spent, "peer"):
        result["peer"] = measure_peer()
    with _section(spent, "warm"):
        result["warm"] = measure_warm(settings, questions)
    with _section(spent, "recall"):
        result["ours_recall_at_5"] = measure_our_recall(settings)
    result["comparison"] = compare(result["warm"], result["peer"], result["ours_recall_at_5"])
    result["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    result["meta"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["floors"] = check_floors(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_scale(result["scale"], out_dir / "scale.png")
    (out_dir / "bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def main(args: argparse.Namespace) -> int:
    """``qa bench [--quick] [--out DIR]``: print the table, write bench.json and scale.png; ``--reader local``:
    time the local reader alone (``bench/local_reader.py``) and write local_reader.json."""
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)  # a run takes minutes: say which section is running
    out_dir = Path(args.out) if args.out else OUT_DIR
    if args.reader == "local":
        from bench.local_reader import run as run_local_reader

        figures = run_local_reader(Settings())
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "local_reader.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"\nwrote {out_dir / 'local_reader.json'}")
        return 0
    result = run_bench(bool(args.quick), out_dir)
    print(format_table(result))
    print(f"\nwrote {out_dir / 'bench.json'} and {out_dir / 'scale.png'}")
    return 0
