"""The learned answer-unit ranker: which sentence or list item of the retrieved passages answers.

One logistic model scores every unit (sentence or list item) of the retrieved passages in the
question's language, from features that mean the same for any document: the unit's similarity to
the question, the share of the question's weighted terms it and its passage hold (in either
language), whether it holds the kind of fact asked for, its place in its passage and in the
ranking, and the passage's retrieval features (``qa.answerability.FEATURES``). The best unit
answers when its probability reaches the model's threshold; otherwise the reader abstains.

Fitted by ``python -m qa.training`` on ``train/`` with gold clauses, validated grouped by section.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.answerability import FEATURES as PASSAGE_FEATURES
from qa.readable import announces_list, points_back

if TYPE_CHECKING:
    from qa.compose import Candidate
    from qa.index import IndexStore

RANKER_PATH = Path(__file__).with_name("models") / "ranker.json"
UNIT_FEATURES = ("unit_dense", "unit_coverage", "unit_type_ok", "lead", "announces", "points_back", "unit_score",
                 "unit_rank", "best_in_passage")
# the passage's retrieval features; whether it names the noun asked for is the answer-or-refuse model's concern
RANKED_PASSAGE_FEATURES = tuple(name for name in PASSAGE_FEATURES if name != "head_missing")
FEATURES = UNIT_FEATURES + tuple(f"passage_{name}" for name in RANKED_PASSAGE_FEATURES)
_RANKED = [PASSAGE_FEATURES.index(name) for name in RANKED_PASSAGE_FEATURES]


def unit_rows(candidates: list[Candidate], passage_rows: dict[str, list[float]], type_ok: list[bool],
              store: IndexStore) -> np.ndarray:
    """One feature row per candidate unit (in the candidates' order)."""
    best_in_passage: dict[str, float] = {}
    for candidate in candidates:
        best_in_passage[candidate.block] = max(best_in_passage.get(candidate.block, -1.0), candidate.score)
    rows = []
    for rank, (candidate, ok) in enumerate(zip(candidates, type_ok)):
        rows.append([
            candidate.dense,
            candidate.coverage,
            float(ok),
            float(candidate.unit == 0),
            float(announces_list(candidate.chunk, candidate.unit, store)),
            float(points_back(candidate.text)),
            candidate.score,
            1.0 / (1 + rank),
            float(candidate.score >= best_in_passage[candidate.block]),
            *(passage_rows[candidate.block][i] for i in _RANKED),
        ])
    return np.asarray(rows, dtype=float).reshape(len(rows), len(FEATURES))


@dataclass(frozen=True)
class UnitRanker:
    """Logistic regression over FEATURES, with the probability a unit needs to answer."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0)
        z = np.clip(rows @ np.asarray(self.weights) + self.bias, -30, 30)
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-z))
        return probabilities

    @classmethod
    def load(cls, path: Path = RANKER_PATH) -> "UnitRanker | None":
        """The fitted ranker, or None where none has been trained."""
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: fitted on features {data['features']}, expected {list(FEATURES)}; "
                             "run python -m qa.training")
        return cls(tuple(data["weights"]), data["bias"], data["threshold"])

    def save(self, path: Path = RANKER_PATH, **extra: object) -> None:
        path.write_text(json.dumps({"features": list(FEATURES), "weights": list(self.weights), "bias": self.bias,
                                    "threshold": self.threshold, **extra}, indent=1), encoding="utf-8")
