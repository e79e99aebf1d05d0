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
        return any(t.startswith("num:") and not re.fullmatch(r"num:(19|20)\d\d", t) for t in found)
    return True


def _weights(query: Query, store: IndexStore) -> dict[str, float]:
    """IDF weights of the terms a unit should contain: the question's own, else the previous turn's."""
    return {t: store.idf_of(t, query.lang) for t in (query.focus_tokens or query.context_tokens)}


_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
PREFIX = 5


def term_in(term: str, found: frozenset[str], text: str) -> bool:
    """A question term appears in a passage: as a token, by its kanji (投じる ~ 投入), or by an English prefix."""
    if term in found:
        return True
    kanji = _KANJI.findall(term)
    if kanji:
        return all(k in text for k in kanji)
    if term.isascii() and term.isalpha() and len(term) >= PREFIX:
        return term[:PREFIX] in text
    return False


def coverage(query: Query, store: IndexStore, hit: Hit) -> float:
    """Share of the question's (IDF-weighted) content terms found in the passage, in either language."""
    terms = query.focus_tokens
    if not terms:
        return 0.0
    found: frozenset[str] = frozenset().union(*(store.token_set(i) for i in hit.chunks.values()))
    text = " ".join(store.search_text(i) for i in hit.chunks.values())
    total = sum(store.idf_of(t, query.lang) for t in terms)
    return sum(store.idf_of(t, query.lang) for t in terms if term_in(t, found, text)) / total


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


def compose(query: Query, vector: np.ndarray, hits: list[Hit], store: IndexStore) -> Draft:
    """Choose the answer's sentences, fact sheet first, from passages that cover the question; else abstain.

    A passage answers when it holds the question's key terms (in either language)
    and the unit chosen from it holds the kind of fact asked for.
    """
    covering = {h.key: c for h in hits if (c := coverage(query, store, h)) >= MIN_COVERAGE}
    if not covering:
        best_cover = max((coverage(query, store, h) for h in hits), default=0.0)
        return Draft(abstained=True, reason=f"key terms covered {best_cover:.2f} at best", coverage=best_cover)
    candidates = [c for c in score_units(query, vector, [h for h in hits if h.key in covering], store)
                  if not query.answer_type or has_type(c.text, query.answer_type)]
    if not candidates:
        return Draft(abstained=True, reason=f"no {query.answer_type} in the covering passages")
    best = next((c for c in candidates if c.doc == "factsheet"), candidates[0])
    chosen = [best]
    if not query.answer_type:
        for candidate in candidates:
            if len(chosen) >= MAX_SENTENCES or candidate.score < EXTRA_RATIO * best.score:
                break
            if candidate.block not in {c.block for c in chosen} and candidate.doc == best.doc:
                chosen.append(candidate)
    return Draft(sentences=chosen, coverage=covering[best.block])
