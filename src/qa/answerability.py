"""Does this passage answer this question? A small calibrated model over retrieval and coverage features.

The top similarity score alone does not separate answerable from unanswerable
questions, so the decision combines: coverage of the question's key terms
(in either language), how many of the four ranked lists put the passage first,
dense similarities of the passage and its best sentence, and the weight of
question terms the corpus never uses, and the weight of the most important
question term the passage lacks. Weights are fitted by ``python -m qa.training``
on the training questions in ``train/`` (written apart from every evaluation
set) and stored in ``models/answerability.json``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.index import IndexStore
from qa.premise import passage_terms
from qa.query import Query
from qa.retriever import Hit
from qa.terms import content_probability, is_known_content, is_weak_content
from qa.text import name_tokens, romaji_key
from qa.ubiquity import beyond_setting

MODEL_PATH = Path(__file__).with_name("models") / "answerability.json"
FEATURES = ("coverage", "dense", "unit_dense", "fusion", "first_in_lists", "unknown_terms", "rank", "type_ok", "missing",
            "head_missing")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
PREFIX = 5


def term_in(term: str, found: frozenset[str], text: str) -> bool:
    """A question term appears in a passage: as a token, by its romanised reading (zeikan ~ 税関), by its
    kanji (投じる ~ 投入), or by an English prefix."""
    if term in found or (term.isascii() and romaji_key(term) in found):
        return True
    kanji = _KANJI.findall(term)
    if kanji:
        return all(k in text for k in kanji)
    if term.isascii() and term.isalpha() and len(term) >= PREFIX:
        return term[:PREFIX] in text
    return False


def term_weight(term: str, lang: str, store: IndexStore) -> float:
    """How much a question term counts: its rarity in the corpus times how likely it names the topic."""
    return store.idf_of(term, lang) * content_probability(term)


def coverage_and_missing(query: Query, store: IndexStore, hit: Hit) -> tuple[float, float]:
    """Share of the question's weighted key terms found in the passage (either language), and the
    share of the heaviest term it lacks. A follow-up is read both ways, and the passage judged by the
    better: with the earlier turn's terms ("When did the first batch go out?" after "Which missiles …?"),
    or by its own ("And the underground reservoir?" after "What does the levee cost?")."""
    found: frozenset[str] = frozenset().union(*(store.token_set(i) for i in hit.chunks.values()))
    text = " ".join(store.search_text(i) for i in hit.chunks.values())
    readings = [coverage_terms(query, store)]
    if query.continues:
        readings.append(coverage_terms(query, store, sentence=True))
    return max(_coverage(terms, query, store, found, text) for terms in readings)


def holds(query: Query, term: str, found: frozenset[str], text: str) -> bool:
    """A passage (its tokens and search text) holds a question term, or all of what may stand for it."""
    return term_in(term, found, text) or any(
        all(term_in(t, found, text) for t in group) for group in query.alias_groups(term))


def _coverage(terms: tuple[str, ...], query: Query, store: IndexStore, found: frozenset[str],
              text: str) -> tuple[float, float]:
    if not terms:
        return 0.0, 0.0
    weights = {t: term_weight(t, query.lang, store) for t in terms}
    total = sum(weights.values()) or 1.0
    covered = {t for t in terms if holds(query, t, found, text)}
    missing = max((w for t, w in weights.items() if t not in covered), default=0.0)
    return sum(weights[t] for t in covered) / total, missing / total


def coverage(query: Query, store: IndexStore, hit: Hit) -> float:
    """Share of the question's weighted key terms found in the passage, in either language."""
    return coverage_and_missing(query, store, hit)[0]


def is_unknown(term: str, store: IndexStore) -> bool:
    """No passage of the corpus uses the term, in any language."""
    return all(term not in idf and romaji_key(term) not in idf for idf in store.idf.values())


def unknown_terms(query: Query, store: IndexStore) -> frozenset[str]:
    """Key terms of the question that no passage of the corpus uses, in any language, and that stand for
    nothing the documents write (an acronym of their words is known by its words)."""
    return frozenset(t for t in query.focus_tokens if is_unknown(t, store) and not any(
        all(not is_unknown(x, store) for x in group) for group in query.alias_groups(t)))


def unknown_names(query: Query, store: IndexStore) -> frozenset[str]:
    """Names in the sentence that asks (not in the remarks before it) that the documents never use: the
    question is about another entity than theirs."""
    return unknown_terms(query, store) & name_tokens(query.asked)


def coverage_terms(query: Query, store: IndexStore, sentence: bool = False) -> tuple[str, ...]:
    """The terms a passage (or, with ``sentence``, its answering sentence) must hold: the question's own,
    and of what it leans on, the words the documents use (not the asker's remarks around it: "I work for
    a utility. What will it supply?")."""
    terms = query.sentence_terms if sentence else query.coverage_terms
    return tuple(t for t in terms if t in query.focus_tokens or not is_unknown(t, store))


def unknown_share(query: Query, store: IndexStore) -> float:
    """IDF-weighted share of key terms that no passage of the corpus uses, in any language."""
    terms = query.focus_tokens
    if not terms:
        return 0.0
    total = sum(store.idf_of(t, query.lang) for t in terms)
    return sum(store.idf_of(t, query.lang) for t in unknown_terms(query, store)) / total


def asked_for(query: Query, store: IndexStore) -> list[str]:
    """The noun a wh-question asks for ("operator" of "Which data center operator …?", "capacity" of "What
    is the production capacity of …?"), when it is strong content beyond the setting (not "company",
    "Japan", and not a word training shows to frame questions, such as "amount" or 金額); none for a broad
    question. A question asking for a kind of fact has one only when training shows the noun to be
    written in the passages that answer (an amount that is no capacity does not answer "What is the
    capacity?"); an unseen noun may name the kind itself ("Which organisation …?" is answered by a name)."""
    if query.summary or query.broad:
        return []
    strong = is_known_content if query.answer_type else (lambda t: not is_weak_content(t))
    return sorted(beyond_setting({t for t in query.head if ":" not in t and strong(t)}, store))  # no amount


def names_head(query: Query, head: list[str], chunks: tuple[int, ...], store: IndexStore) -> bool:
    """The passages (or their twins) name what the question asks for."""
    found, text = passage_terms(chunks, store)
    return all(holds(query, term, found, text) for term in head)


def features(query: Query, hit: Hit, rank: int, unit_dense: float, type_ok: bool, unknown: float,
             head: list[str], store: IndexStore) -> list[float]:
    """The feature vector of one (question, passage) pair, in the order of FEATURES."""
    covered, missing = coverage_and_missing(query, store, hit)
    return [
        covered,
        hit.dense,
        unit_dense,
        hit.score * 60 / 4,
        sum(1 for r in hit.ranks.values() if r == 0) / 4,
        unknown,
        1.0 / (1 + rank),
        float(type_ok),
        missing,
        float(bool(head) and not names_head(query, head, tuple(hit.chunks.values()), store)),
    ]


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic regression over FEATURES with a decision threshold."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, vector: list[float]) -> float:
        z = self.bias + float(np.dot(self.weights, vector))
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "AnswerabilityModel":
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: fitted on features {data['features']}, expected {list(FEATURES)}")
        return cls(tuple(data["weights"]), data["bias"], data["threshold"])

    def save(self, path: Path = MODEL_PATH, **extra: Any) -> None:
        path.write_text(json.dumps({"features": list(FEATURES), "weights": list(self.weights), "bias": self.bias,
                                    "threshold": self.threshold, **extra}, indent=1), encoding="utf-8")
