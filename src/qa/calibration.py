"""Fit the answerability model: ``python -m qa.calibration`` (needs scikit-learn).

Uses ``eval/calibration/questions.jsonl`` only — questions written apart from the
evaluation set — so ``qa eval`` measures the decision on questions it was not
fitted on. Prints the calibration error rates (in-sample and 5-fold
cross-validated by question) and writes ``src/qa/answerability.json``.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from qa.answerability import FEATURES, AnswerabilityModel
from qa.chain import SEARCH_DEPTH, build_chain
from qa.compose import is_usable, passage_features, score_units
from qa.config import PROJECT_ROOT
from qa.evaluation import gold_blocks
from qa.query import analyse

CALIBRATION_SET = PROJECT_ROOT / "eval" / "calibration" / "questions.jsonl"
EXTRA_FALSE_REFUSAL = 0.02  # what the threshold may add to the refusals the sentence gate already makes


def collect(chain, items: list[dict]):
    """Feature rows for every retrieved passage of every question, with labels and question ids."""
    store = chain.index.get()
    rows, labels, groups, gates = [], [], [], []
    for n, item in enumerate(items):
        query = analyse(item["question"])
        vector = chain.embedder.embed_query_array(query.search_text)
        hits = chain.retriever.search(query.search_text, query_vector=vector, store=store, k=SEARCH_DEPTH)
        candidates = score_units(query, vector, hits, store)
        gold = gold_blocks(item, store) if item["answerable"] else set()
        for hit, row in zip(hits, passage_features(query, hits, candidates, store)):
            rows.append(row)
            labels.append(hit.key in gold)
            groups.append(n)
            gates.append(any(is_usable(query, c, store) for c in candidates if c.block == hit.key))
    return np.asarray(rows), np.asarray(labels), np.asarray(groups), np.asarray(gates, dtype=float)


def question_scores(probabilities: np.ndarray, gates: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Per question, the best probability among passages with a usable sentence (as compose decides)."""
    best = np.full(n, -1.0)  # -1: no passage has a usable sentence, refused whatever the threshold
    np.maximum.at(best, groups, np.where(gates > 0, probabilities, -1.0))
    return best


def pick_threshold(best: np.ndarray, answerable: np.ndarray) -> float:
    """The highest threshold that adds at most EXTRA_FALSE_REFUSAL to the gate's own false refusals."""
    scores = best[answerable]
    floor = np.mean(scores < 0)
    allowed = [t for t in np.unique(scores[scores >= 0]) if np.mean(scores < t) <= floor + EXTRA_FALSE_REFUSAL]
    return float(max(allowed, default=0.0))


def rates(best: np.ndarray, answerable: np.ndarray, threshold: float) -> dict[str, float]:
    return {
        "false_refusal": round(float(np.mean(best[answerable] < threshold)), 3),
        "unanswerable_refused": round(float(np.mean(best[~answerable] < threshold)), 3),
    }


def main() -> int:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    items = [json.loads(line) for line in CALIBRATION_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    chain = build_chain()
    X, y, groups, gates = collect(chain, items)
    answerable = np.asarray([item["answerable"] for item in items])

    def fit(rows, targets):
        return LogisticRegression(class_weight="balanced", C=1.0, max_iter=2000).fit(rows, targets)

    cv_best = np.zeros(len(items))
    for train, test in GroupKFold(n_splits=5).split(X, y, groups):
        model = fit(X[train], y[train])
        train_q = np.unique(groups[train])
        best_train = question_scores(model.predict_proba(X[train])[:, 1], gates[train], groups[train], len(items))[train_q]
        threshold = pick_threshold(best_train, answerable[train_q])
        test_q = np.unique(groups[test])
        best_test = question_scores(model.predict_proba(X[test])[:, 1], gates[test], groups[test], len(items))[test_q]
        cv_best[test_q] = best_test - threshold  # shifted so that 0 is each fold's threshold

    model = fit(X, y)
    best = question_scores(model.predict_proba(X)[:, 1], gates, groups, len(items))
    threshold = pick_threshold(best, answerable)
    fitted = rates(best, answerable, threshold)
    cross_validated = rates(cv_best, answerable, 0.0)
    AnswerabilityModel(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]), threshold).save(
        calibration={"questions": len(items), "answerable": int(answerable.sum()),
                     "in_sample": fitted, "cross_validated": cross_validated}
    )
    print("weights:", dict(zip(FEATURES, np.round(model.coef_[0], 3))), "bias", round(float(model.intercept_[0]), 3))
    print(f"threshold {threshold:.3f}; in-sample {fitted}; 5-fold cross-validated {cross_validated}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
