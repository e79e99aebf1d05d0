"""Train the learned parts of the extractive reader: ``python -m qa.training`` (needs scikit-learn).

Data: ``train/*.jsonl`` — questions written apart from the evaluation sets
(``eval/dev``, ``eval/test``, ``eval/calibration``), each with the quote of its gold
clause, or marked unanswerable. Writes into ``src/qa/models/``:

- ``terms.json``: per question term, how likely it names the topic (see ``qa.terms``);
- ``answerability.json``: the passage answer-or-refuse model (see ``qa.answerability``);
- ``ranker.json``: the answer-unit ranker, which also decides whether any unit answers (see ``qa.ranker``).

Validation is grouped by section: every fold scores questions about sections the model
was not fitted on. Figures go to the log and into the model files. Runs on any corpus
(``QA_CORPUS_DIR``) with a training file of the same shape (``--train``).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.answerability import FEATURES, MODEL_PATH, AnswerabilityModel, term_in
from qa.config import PROJECT_ROOT
from qa.terms import TERMS_PATH, smoothed
from qa.text import key_terms, normalize, plain

if TYPE_CHECKING:
    from qa.chain import QAChain
    from qa.compose import Candidate
    from qa.index import IndexStore
    from qa.manifest import Manifest
    from qa.query import Query
    from qa.retriever import Hit

# feature rows, labels, question numbers and two per-row columns, as collect and collect_units return them
_FeatureArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]

log = logging.getLogger("qa.training")
TRAIN_DIR = PROJECT_ROOT / "train"
EXTRA_FALSE_REFUSAL = 0.03  # what the threshold may add to the refusals the sentence gate already makes
FOLDS = 5
MODELS = ("terms", "answerability", "ranker")


def load_items(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _bare(text: str) -> str:
    return normalize(plain(text)).replace("**", "")


def gold_chunks(item: dict[str, Any], store: IndexStore) -> set[int]:
    """Store indices of the chunks (and their twins) whose text holds a gold quote of ``item``."""
    found: set[int] = set()
    for gold in item.get("gold") or []:
        quote = _bare(gold["quote"])
        for i, chunk in enumerate(store.chunks):
            if chunk.doc == gold["doc"] and quote in _bare(chunk.text):
                found |= set(store.blocks[chunk.block_key].values())
    if item.get("answerable", True) and not found:
        raise ValueError(f"training item {item['id']}: no chunk holds its gold quote {item.get('gold')}")
    return found


def term_probabilities(items: list[dict[str, Any]], store: IndexStore, manifest: Manifest) -> dict[str, float]:
    """Smoothed share of answerable questions whose gold passage (either language) holds each term. The
    words naming a document ("according to the fact sheet") are left out: the chain reads them from the
    corpus manifest, so the learned weights name no document of this corpus."""
    seen: Counter[str] = Counter()
    in_gold: Counter[str] = Counter()
    for item in items:
        if not item.get("answerable", True):
            continue
        chunks = gold_chunks(item, store)
        found = frozenset().union(*(store.token_set(i) for i in chunks))
        text = " ".join(store.search_text(i) for i in chunks)
        for term in set(key_terms(item["question"])) - manifest.reference_terms(item["question"]):
            seen[term] += 1
            in_gold[term] += term_in(term, found, text)
    return {t: round(smoothed(in_gold[t], n), 4) for t, n in sorted(seen.items())}


def _retrieve(chain: QAChain, store: IndexStore,
              question: str) -> tuple[Query, list[Hit], list[Candidate]]:
    """The understood question, its retrieved passages and their scored units, as the chain has them."""
    from qa.chain import understand
    from qa.compose import score_units

    query = understand(question, [], store, chain.settings.max_question_chars, chain.manifest)
    vector = chain.embedder.embed_query_array(query.search_text)
    hits = chain.retriever.search(query.search_text, query_vector=vector, store=store, k=chain.settings.top_k)
    return query, hits, score_units(query, vector, hits, store)


def collect(chain: QAChain, items: list[dict[str, Any]]) -> _FeatureArrays:
    """Answerability feature rows of every retrieved passage of every question, with labels, question
    numbers, section groups and whether the passage has a usable sentence."""
    from qa.compose import is_usable, passage_features

    store = chain.index.get()
    rows, labels, questions, gates, groups = [], [], [], [], []
    for n, item in enumerate(items):
        query, hits, candidates = _retrieve(chain, store, item["question"])
        gold = gold_chunks(item, store) if item.get("answerable", True) else set()
        anchor = next(iter(gold), None) if gold else (next(iter(hits[0].chunks.values())) if hits else None)
        group = store.chunks[anchor].section.split(" > ")[0] if anchor is not None else "none"
        for hit, row in zip(hits, passage_features(query, hits, candidates, store)):
            rows.append(row)
            labels.append(bool(gold & set(hit.chunks.values())))
            questions.append(n)
            groups.append(group)
            gates.append(any(is_usable(query, c, store) for c in candidates if c.block == hit.key))
    return (np.asarray(rows), np.asarray(labels), np.asarray(questions), np.asarray(gates, dtype=float),
            np.asarray(groups))


def question_scores(probabilities: np.ndarray, gates: np.ndarray, questions: np.ndarray, n: int) -> np.ndarray:
    """Per question, the best probability among passages with a usable sentence (-1: none has one)."""
    best = np.full(n, -1.0)
    np.maximum.at(best, questions, np.where(gates > 0, probabilities, -1.0))
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


def fit_answerability(chain: QAChain, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Fit the answer-or-refuse model; validate grouped by section; save it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    X, y, questions, gates, groups = collect(chain, items)
    answerable = np.asarray([item.get("answerable", True) for item in items])

    def fit(rows: np.ndarray, targets: np.ndarray) -> Any:
        return LogisticRegression(class_weight="balanced", C=1.0, max_iter=2000).fit(rows, targets)

    held_out = np.zeros(len(items))
    for train, test in GroupKFold(n_splits=FOLDS).split(X, y, groups):
        model = fit(X[train], y[train])
        train_q, test_q = np.unique(questions[train]), np.unique(questions[test])
        best_train = question_scores(model.predict_proba(X[train])[:, 1], gates[train], questions[train], len(items))
        threshold = pick_threshold(best_train[train_q], answerable[train_q])
        best_test = question_scores(model.predict_proba(X[test])[:, 1], gates[test], questions[test], len(items))
        held_out[test_q] = best_test[test_q] - threshold  # 0 is each fold's threshold
    model = fit(X, y)
    best = question_scores(model.predict_proba(X)[:, 1], gates, questions, len(items))
    threshold = pick_threshold(best, answerable)
    figures = {"questions": len(items), "answerable": int(answerable.sum()),
               "in_sample": rates(best, answerable, threshold),
               "cross_section": {**rates(held_out, answerable, 0.0),
                                 "auc": round(float(roc_auc_score(answerable, held_out)), 3)}}
    AnswerabilityModel(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]), threshold).save(
        MODEL_PATH, training=figures)
    log.info("answerability weights %s bias %.3f threshold %.3f",
             dict(zip(FEATURES, np.round(model.coef_[0], 3))), model.intercept_[0], threshold)
    return figures


def gold_units(item: dict[str, Any], store: IndexStore, lang: str) -> set[tuple[int, int]]:
    """``(chunk, unit)`` of the units in ``lang`` that hold a gold clause of ``item``: the unit holding the
    quote, or in the other language the unit at the same place of a twin cut into as many units."""
    found: set[tuple[int, int]] = set()
    for gold in item.get("gold") or []:
        quote = _bare(gold["quote"])
        for i, chunk in enumerate(store.chunks):
            if chunk.doc != gold["doc"] or quote not in _bare(chunk.text):
                continue
            units = [n for n, unit in enumerate(chunk.units) if quote in _bare(unit) or _bare(unit) in quote]
            target = i if chunk.lang == lang else store.twin(i)
            if target is None:
                continue
            if chunk.lang == lang:
                found |= {(i, n) for n in units}
            elif len(store.chunks[target].units) == len(chunk.units):
                found |= {(target, n) for n in units}
    return found


def collect_units(chain: QAChain, items: list[dict[str, Any]]) -> _FeatureArrays:
    """Ranker feature rows of every unit of the retrieved passages, with gold labels, question numbers,
    section groups and whether the unit may answer at all (holds the kind of fact asked for)."""
    from qa.compose import passage_features, unit_type_ok
    from qa.text import is_question
    from qa.ranker import unit_rows

    store = chain.index.get()
    rows, labels, questions, groups, allowed = [], [], [], [], []
    for n, item in enumerate(items):
        query, hits, candidates = _retrieve(chain, store, item["question"])
        if not candidates:
            continue
        passage_rows = {hit.key: row for hit, row in zip(hits, passage_features(query, hits, candidates, store))}
        type_ok = unit_type_ok(query, candidates, store)
        gold = gold_units(item, store, query.lang) if item.get("answerable", True) else set()
        section = (store.chunks[next(iter(gold))[0]].section if gold
                   else store.chunks[candidates[0].chunk].section).split(" > ")[0]
        rows.append(unit_rows(candidates, passage_rows, type_ok, store))
        labels += [(c.chunk, c.unit) in gold for c in candidates]
        questions += [n] * len(candidates)
        groups += [section] * len(candidates)
        allowed += [ok and not is_question(c.text) for c, ok in zip(candidates, type_ok)]
    return (np.vstack(rows), np.asarray(labels), np.asarray(questions), np.asarray(groups),
            np.asarray(allowed))


def _decide(p: np.ndarray, labels: np.ndarray, questions: np.ndarray, allowed: np.ndarray,
            n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per question: the best allowed unit's probability, and whether that unit is a gold one."""
    best = np.full(n, -1.0)
    correct = np.zeros(n, dtype=bool)
    for i in np.argsort(-p):
        q = questions[i]
        if allowed[i] and best[q] < 0:
            best[q], correct[q] = p[i], labels[i]
    return best, correct


def balanced_threshold(best: np.ndarray, answerable: np.ndarray) -> float:
    """The threshold that minimises false refusals plus answered unanswerable questions."""
    candidates = np.unique(np.concatenate([best[best >= 0], [0.0, 1.0]]))
    errors = [np.mean(best[answerable] < t) + np.mean(best[~answerable] >= t) for t in candidates]
    return float(candidates[int(np.argmin(errors))])


def ranker_rates(best: np.ndarray, correct: np.ndarray, answerable: np.ndarray,
                 threshold: float) -> dict[str, float]:
    answered = best >= threshold
    return {"false_refusal": round(float(np.mean(~answered[answerable])), 3),
            "unanswerable_refused": round(float(np.mean(~answered[~answerable])), 3),
            "gold_clause": round(float(np.mean((answered & correct)[answerable])), 3)}


def fit_ranker(chain: QAChain, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Fit the unit ranker; validate grouped by section; save it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from qa.ranker import FEATURES as RANKER_FEATURES
    from qa.ranker import UnitRanker

    X, y, questions, groups, allowed = collect_units(chain, items)
    answerable = np.asarray([item.get("answerable", True) for item in items])

    def fit(rows: np.ndarray, targets: np.ndarray) -> Any:
        return LogisticRegression(class_weight="balanced", C=1.0, max_iter=5000).fit(rows, targets)

    held_best, held_correct = np.full(len(items), -1.0), np.zeros(len(items), dtype=bool)
    for train, test in GroupKFold(n_splits=FOLDS).split(X, y, groups):
        model = fit(X[train], y[train])
        train_best, _ = _decide(model.predict_proba(X[train])[:, 1], y[train], questions[train], allowed[train],
                                len(items))
        train_q, test_q = np.unique(questions[train]), np.unique(questions[test])
        threshold = balanced_threshold(train_best[train_q], answerable[train_q])
        test_best, test_correct = _decide(model.predict_proba(X[test])[:, 1], y[test], questions[test],
                                          allowed[test], len(items))
        held_best[test_q], held_correct[test_q] = test_best[test_q] - threshold, test_correct[test_q]
    model = fit(X, y)
    best, correct = _decide(model.predict_proba(X)[:, 1], y, questions, allowed, len(items))
    threshold = balanced_threshold(best, answerable)
    figures = {"questions": len(items), "units": len(y), "gold_units": int(y.sum()),
               "in_sample": ranker_rates(best, correct, answerable, threshold),
               "cross_section": ranker_rates(held_best, held_correct, answerable, 0.0)}
    UnitRanker(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]), threshold).save(training=figures)
    log.info("ranker weights %s bias %.3f threshold %.3f",
             dict(zip(RANKER_FEATURES, np.round(model.coef_[0], 3))), model.intercept_[0], threshold)
    return figures


def _reset_stale_models() -> None:
    """Models fitted on other features than today's are replaced by neutral ones, so the chain that
    collects the training rows can be built (the fits below overwrite them)."""
    from qa.ranker import RANKER_PATH, UnitRanker

    try:
        AnswerabilityModel.load()
    except ValueError as err:
        log.info("%s: starting from a neutral answerability model", err)
        AnswerabilityModel(tuple(0.0 for _ in FEATURES), 0.0, 0.5).save(MODEL_PATH)
    try:
        UnitRanker.load()
    except ValueError as err:
        log.info("%s: training without a ranker first", err)
        RANKER_PATH.unlink()


def score_chain(chain: QAChain, items: list[dict[str, Any]]) -> dict[str, float]:
    """How the chain answers the training questions: refusals of answerable and unanswerable ones, and
    the share of answerable ones whose key facts the answer all states (whole words, as ``qa eval``)."""
    from qa.evaluation.matching import fact_in

    answerable, refused, facts_said, unanswerable_refused = 0, 0, 0, 0
    for item in items:
        answer = chain.invoke(item["question"])
        if not item.get("answerable", True):
            unanswerable_refused += answer.abstained
            continue
        answerable += 1
        refused += answer.abstained
        facts = item.get("key_facts") or []
        facts_said += not answer.abstained and all(fact_in(f, answer.answer) for f in facts)
    unanswerable = len(items) - answerable
    return {"questions": len(items), "answerable_refused": round(refused / max(answerable, 1), 3),
            "unanswerable_refused": round(unanswerable_refused / max(unanswerable, 1), 3),
            "all_key_facts_said": round(facts_said / max(answerable, 1), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.training", description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, nargs="+", default=sorted(TRAIN_DIR.glob("*.jsonl")),
                        help="training question files (JSON lines; default: train/*.jsonl)")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS),
                        help="which models to fit (default: all; the others are kept as they are)")
    parser.add_argument("--score", action="store_true",
                        help="fit nothing: answer the training questions with the chain and print its refusals "
                             "and key-fact recall (a check of rule changes on questions written apart from eval/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from qa.chain import build_chain
    from qa.terms import _load

    items = [item for path in args.train for item in load_items(path)]
    if args.score:
        log.info("training questions through the chain: %s", json.dumps(score_chain(build_chain(), items)))
        return 0
    _reset_stale_models()
    if "terms" in args.models:
        chain = build_chain()
        terms = term_probabilities(items, chain.index.get(), chain.manifest)
        TERMS_PATH.write_text(json.dumps({"trained_on": [p.name for p in args.train], "questions": len(items),
                                          "content_probability": terms}, ensure_ascii=False, indent=0),
                              encoding="utf-8")
        _load.cache_clear()
        framing = sorted((p, t) for t, p in terms.items() if p < 0.5)
        log.info("%d terms learned; framing: %s", len(terms), " ".join(t for _p, t in framing[:60]))
    if "answerability" in args.models:
        log.info("answerability: %s", json.dumps(fit_answerability(build_chain(), items)))
    if "ranker" in args.models:
        log.info("ranker: %s", json.dumps(fit_ranker(build_chain(), items)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
