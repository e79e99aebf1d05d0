"""Evaluation data: the splits, their per-category JSON-lines files, and the gold blocks and clauses.

``eval/dev`` (tuned on) and ``eval/test`` (frozen) hold one ``<category>.jsonl`` per category;
``eval/calibration/questions.jsonl`` holds questions marked ``answerable`` true or false. A missing
file or category is skipped (and logged), so a split may hold any subset of the categories.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.config import PROJECT_ROOT

if TYPE_CHECKING:
    from qa.index import IndexStore

log = logging.getLogger("qa.evaluation")

EVAL_DIR = PROJECT_ROOT / "eval"
SPLITS = ("dev", "test", "calibration")
CATEGORIES = ("faq", "facts", "crosslingual", "unanswerable", "followups", "conflicts",
              "yesno", "aggregate", "summary", "premise")
CALIBRATION_FILE = "questions.jsonl"


@dataclass(frozen=True)
class GoldClause:
    """Where a gold quote sits: its block, and the clause (sentence or list item) holding it per language
    (a language is missing when its passage's clauses do not line up with the Japanese ones). ``quote``
    numbers the item's gold quotes: a quote found in several blocks gives one clause per block."""

    block: str
    clause: dict[str, str]
    quote: int = 0


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{n}: not JSON ({err.msg})") from None
        if not isinstance(item, dict) or "id" not in item or "lang" not in item:
            raise ValueError(f"{path}:{n}: an eval item needs at least 'id' and 'lang'")
        items.append(item)
    return items


def split_dir(split: str, root: Path = EVAL_DIR) -> Path:
    return root / split


def load_items(data_dir: Path, categories: tuple[str, ...] = CATEGORIES) -> list[tuple[str, dict[str, Any]]]:
    """``(category, item)`` for every item of the wanted categories in ``data_dir``.

    A calibration folder (``questions.jsonl``) maps answerable items to ``facts`` and the others to
    ``unanswerable``."""
    calibration = data_dir / CALIBRATION_FILE
    if calibration.is_file():
        items = [("facts" if item.get("answerable", True) else "unanswerable", item)
                 for item in _read_jsonl(calibration)]
        return [(c, item) for c, item in items if c in categories]
    items = []
    for category in categories:
        path = data_dir / f"{category}.jsonl"
        if not path.is_file():
            log.info("no %s: category %s skipped", path, category)
            continue
        items.extend((category, item) for item in _read_jsonl(path))
    if not items:
        log.warning("no eval items in %s for categories %s", data_dir, ", ".join(categories))
    return items


def gold_blocks(item: dict[str, Any], store: IndexStore) -> set[str]:
    """Block keys of the item's gold quotes (found in the Japanese chunks)."""
    return {g.block for g in gold_clauses(item, store)}


def _squash(text: str) -> str:
    return text.replace("**", "")


def gold_clauses(item: dict[str, Any], store: IndexStore) -> list[GoldClause]:
    """The gold clause of each of the item's gold quotes (quotes are exact substrings of the Japanese text)."""
    found = []
    for number, gold in enumerate(item.get("gold", [])):
        quote = _squash(gold["quote"])
        matches = [i for i, c in enumerate(store.chunks)
                   if c.doc == gold["doc"] and c.lang == "ja" and quote in _squash(c.text)]
        if not matches:
            raise ValueError(f"eval item {item['id']}: gold quote not found in {gold['doc']}: {gold['quote']!r}")
        for index in matches:
            chunk = store.chunks[index]
            units = [u for u in chunk.units if quote in _squash(u)]
            position = chunk.units.index(units[0]) if units else None
            clause = {"ja": units[0] if units else quote}
            twin = store.blocks.get(chunk.block_key, {}).get("en")
            if twin is not None and position is not None:
                twin_units = store.chunks[twin].units
                if len(twin_units) == len(chunk.units):
                    clause["en"] = twin_units[position]
            found.append(GoldClause(chunk.block_key, clause, number))
    return found
