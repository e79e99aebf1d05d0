"""Which words of a question name its topic: learned weights instead of word lists.

A word that people use in questions but that rarely appears in the passage answering them
("教えて", "exactly", "amount", "資料") frames the question rather than naming its
topic. ``python -m qa.training`` counts, over the training questions (``train/``), how often
each question term appears in its gold passage (either language) and stores a smoothed
content probability per term in ``models/terms.json``. A term never seen in training
questions gets the prior: it counts as content.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

TERMS_PATH = Path(__file__).with_name("models") / "terms.json"
PRIOR_MEAN = 0.75  # a term never seen in training is most likely content
PRIOR_STRENGTH = 4.0  # pseudo-observations behind the prior
FRAMING_BELOW = 0.5  # a term whose content probability is below this frames the question


def smoothed(in_gold: int, seen: int) -> float:
    """Content probability of a term found ``in_gold`` times among ``seen`` training questions."""
    return (in_gold + PRIOR_MEAN * PRIOR_STRENGTH) / (seen + PRIOR_STRENGTH)


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, float]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {term: float(p) for term, p in data["content_probability"].items()}


def content_probability(term: str, path: Path = TERMS_PATH) -> float:
    """How likely ``term`` names what a question is about (1: always, 0: never)."""
    return _load(path).get(term, PRIOR_MEAN)


def is_framing(term: str, path: Path = TERMS_PATH) -> bool:
    return content_probability(term, path) < FRAMING_BELOW


def is_weak_content(term: str, path: Path = TERMS_PATH) -> bool:
    """Training questions show ``term`` to be content less often than the prior assumes of an unseen word."""
    return content_probability(term, path) < PRIOR_MEAN


def is_known_content(term: str, path: Path = TERMS_PATH) -> bool:
    """Training questions show ``term`` to be content more often than the prior assumes of an unseen word."""
    return content_probability(term, path) > PRIOR_MEAN
