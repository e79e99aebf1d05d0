"""Extractive answers: pick the sentences or list items that answer, or abstain.

No language model is involved: every sentence of an answer is a unit (sentence
or list item) of a cited passage, taken from the passage's twin in the
question's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from qa.index import IndexStore
from qa.numbers import number_tokens
from qa.query import Query
from qa.retriever import Hit
from qa.text import tokens

DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.5
RANK_WEIGHT = 0.1
TYPE_BONUS = 0.15
MIN_COVERAGE = 0.6
EXTRA_RATIO = 0.92
MAX_SENTENCES = 3

_DATE_WORDS = re.compile(r"today|this week|sunday|本日|今週|日曜|月", re.I)

ABSTAIN_TEXT = {
    "ja": "資料(ファクトシートと解説記事)には、この質問に答える記述が見当たりません。",
    "en": "The documents (the fact sheet and the article) do not answer this question.",
}
BLOG_PREFIX = {"ja": "解説記事によると、", "en": "According to the article, "}


@dataclass
class Candidate:
    """One unit of one retrieved passage, with its score."""

    text: str
    chunk: int
    block: str
    doc: str
    score: float


@dataclass
class Draft:
    """The composed answer before citations are numbered."""

    sentences: list[Candidate] = field(default_factory=list)
    abstained: bool = False
    reason: str = ""
    coverage: float = 0.0


def has_type(text: str, kind: str) -> bool:
    """Whether ``text`` holds the kind of answer asked for."""
    found = number_tokens(text)
    if kind == "amount":
        return any(t.startswith("usd:") for t in found)
    if kind == "percent":
        return any(t.startswith("pct:") for t in found)
    if kind == "date":
        return any(t.startswith(("month:", "num:")) for t in found) or bool(_DATE_WORDS.search(text))
    if kind == "count":
        return any(t.startswith(("num:", "usd:")) for t in found)
    return True


def _weights(query: Query, store: IndexStore) -> dict[str, float]:
    """IDF weights of the terms a unit should contain: the question's own, else the previous turn's."""
    return {t: store.idf_of(t, query.lang) for t in (query.focus_tokens or query.context_tokens)}


def coverage(query: Query, store: IndexStore, hit: Hit) -> float:
    """Share of the question's (IDF-weighted) content terms found in the passage, in either language."""
    terms = query.focus_tokens
    if not terms:
        return 0.0
    found: frozenset[str] = frozenset().union(*(store.token_set(i) for i in hit.chunks.values()))
    total = sum(store.idf_of(t, query.lang) for t in terms)
    return sum(store.idf_of(t, query.lang) for t in terms if t in found) / total


def score_units(query: Query, vector: np.ndarray, hits: list[Hit], store: IndexStore) -> list[Candidate]:
    """Every unit of the retrieved passages in the question's language, best first."""
    weights = _weights(query, store)
    total = sum(weights.values()) or 1.0
    top = hits[0].score if hits else 1.0
    candidates = []
    for hit in hits:
        index = hit.chunks.get(query.lang)
        if index is None:
            continue
        chunk = store.chunks[index]
        section_tokens = set(tokens(chunk.section))
        units, unit_vectors = store.units(index)
        dense = unit_vectors @ vector if len(units) else np.zeros(0)
        for unit, similarity in zip(units, dense):
            unit_tokens = set(tokens(unit))
            lexical = sum(w for t, w in weights.items() if t in unit_tokens)
            lexical += 0.5 * sum(w for t, w in weights.items() if t in section_tokens and t not in unit_tokens)
            score = DENSE_WEIGHT * float(similarity) + LEXICAL_WEIGHT * lexical / total
            score += RANK_WEIGHT * hit.score / top
            if query.answer_type:
                score += TYPE_BONUS if has_type(unit, query.answer_type) else -TYPE_BONUS
            candidates.append(Candidate(unit, index, hit.key, chunk.doc, score))
    return sorted(candidates, key=lambda c: -c.score)


def _answers(query: Query, candidate: Candidate, hits: list[Hit], store: IndexStore) -> tuple[bool, str, float]:
    """Whether a unit answers: its passage covers the question's terms and holds the asked kind of fact."""
    hit = next(h for h in hits if h.key == candidate.block)
    covered = coverage(query, store, hit)
    if covered < MIN_COVERAGE:
        return False, f"question terms covered {covered:.2f}", covered
    if query.answer_type and not has_type(candidate.text, query.answer_type):
        return False, f"no {query.answer_type} in the best passage", covered
    return True, "", covered


def compose(query: Query, vector: np.ndarray, hits: list[Hit], store: IndexStore) -> Draft:
    """Choose the answer's sentences, fact sheet first, or decide to abstain."""
    candidates = score_units(query, vector, hits, store)
    if not candidates:
        return Draft(abstained=True, reason="nothing retrieved")
    reason, covered = "", 0.0
    for doc in ("factsheet", "blog"):
        best = next((c for c in candidates if c.doc == doc), None)
        if best is None:
            continue
        ok, reason, covered = _answers(query, best, hits, store)
        if ok:
            break
    else:
        return Draft(abstained=True, reason=reason, coverage=covered)
    chosen = [best]
    if not query.answer_type:
        for candidate in candidates:
            if len(chosen) >= MAX_SENTENCES or candidate.score < EXTRA_RATIO * best.score:
                break
            if candidate.block not in {c.block for c in chosen} and candidate.doc == best.doc:
                chosen.append(candidate)
    return Draft(sentences=chosen, coverage=covered)
