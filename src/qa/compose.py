"""Extractive answers: pick the sentences or list items that answer, or abstain.

No language model is involved: every sentence of an answer is a unit (sentence
or list item) of a cited passage, taken from the passage's twin in the
question's language. Whether a passage answers at all is decided by the
calibrated answerability model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa.answerability import AnswerabilityModel, features, unknown_share
from qa.index import IndexStore
from qa.numbers import number_tokens
from qa.query import Query
from qa.readers.base import Draft, Sentence
from qa.retriever import Hit
from qa.text import REGION, has_cjk, is_country, names_us_state, places, romaji_key

DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.5
RANK_WEIGHT = 0.1
TYPE_BONUS = 0.15
EXTRA_RATIO = 0.92
MAX_SENTENCES = 3
MIN_UNIT_COVERAGE = 0.25  # a chosen sentence names at least this much of what the question asks about

_DATE_WORDS = re.compile(r"\btoday\b|\bthis week\b|\bsunday\b|本日|今週|日曜", re.I)

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
    dense: float = 0.0
    coverage: float = 0.0
    unit: int = 0  # its position among the passage's units


def has_type(text: str, kind: str, after_year: int = 0) -> bool:
    """Whether ``text`` holds the kind of answer asked for (a date later than ``after_year``, if given)."""
    found = number_tokens(text)
    if kind in ("date", "calendar date") and after_year:
        return any(re.fullmatch(r"num:(19|20)\d\d", t) and int(t[4:]) > after_year for t in found)
    if kind == "amount":
        return any(t.startswith("usd:") for t in found)
    if kind == "percent":
        return any(t.startswith("pct:") for t in found)
    if kind == "calendar date":
        return any(t.startswith("month:") for t in found)
    if kind == "date":
        return any(t.startswith("month:") or re.fullmatch(r"num:(19|20)\d\d", t) for t in found) or bool(
            _DATE_WORDS.search(text))
    if kind == "place":
        return bool(places(text))
    if kind == "us state":
        return names_us_state(text)
    if kind == "named place":
        return any(not REGION.fullmatch(p) and not is_country(p) for p in places(text))
    if kind == "count":
        return any(t.startswith("num:") and not re.fullmatch(r"num:(19|20)\d\d", t) for t in found)
    return True


_LATEST_YEAR: dict[str, int] = {}


def latest_year(store: IndexStore) -> int:
    """The latest year the documents mention: they can say nothing about what comes after."""
    if store.version not in _LATEST_YEAR:
        years = [int(t[4:]) for c in store.chunks for t in number_tokens(c.text) if re.fullmatch(r"num:(19|20)\d\d", t)]
        _LATEST_YEAR[store.version] = max(years, default=0)
    return _LATEST_YEAR[store.version]


def _has_type(query: Query, text: str, store: IndexStore) -> bool:
    return has_type(text, query.answer_type, latest_year(store) if query.future else 0)


def _foreign(term: str, lang: str) -> bool:
    """A term in the other language's script: Japanese in an English question, Latin in a Japanese one.

    Only terms that the question's own language never uses count (Japanese text writes "LNG" too)."""
    return has_cjk(term) if lang == "en" else term.isascii() and term.isalpha()


def score_units(query: Query, vector: np.ndarray, hits: list[Hit], store: IndexStore) -> list[Candidate]:
    """Every unit of the retrieved passages in the question's language, best first."""
    weights = {t: store.idf_of(t, query.lang) for t in (query.focus_tokens or query.context_tokens)}
    total = sum(weights.values()) or 1.0
    top = hits[0].score if hits else 1.0
    candidates = []
    for hit in hits:
        index = hit.chunks.get(query.lang)
        if index is None:
            continue
        chunk = store.chunks[index]
        section_tokens = store.heading_tokens(chunk.section)
        twin = store.twin(index)
        # Names written in the other language's script ("What will 東芝 supply?"), or Japanese ones
        # romanised in an English question ("zeikan"), are checked on the twin.
        twin_tokens = store.token_set(twin) if twin is not None else frozenset()
        twin_terms = {t for t in weights if t not in store.idf.get(query.lang, {}) and (
            (_foreign(t, query.lang) and t in twin_tokens) or (query.lang == "en" and romaji_key(t) in twin_tokens))}
        units, unit_vectors = store.units(index)
        dense = unit_vectors @ vector if len(units) else np.zeros(0)
        for n, (unit, unit_tokens, similarity) in enumerate(zip(units, store.unit_token_sets(index), dense)):
            lexical = sum(w for t, w in weights.items() if t in unit_tokens)
            lexical += 0.5 * sum(w for t, w in weights.items() if t in section_tokens and t not in unit_tokens)
            lexical += sum(weights[t] for t in twin_terms if t not in unit_tokens and t not in section_tokens)
            score = DENSE_WEIGHT * float(similarity) + LEXICAL_WEIGHT * lexical / total
            unit_coverage = lexical / total
            score += RANK_WEIGHT * hit.score / top
            if query.answer_type:
                score += TYPE_BONUS if _has_type(query, unit, store) else -TYPE_BONUS
            candidates.append(Candidate(unit, index, hit.key, chunk.doc, score, float(similarity), unit_coverage, n))
    return sorted(candidates, key=lambda c: -c.score)


def is_question(text: str) -> bool:
    return text.rstrip().endswith(("?", "？"))


def is_usable(query: Query, candidate: Candidate, store: IndexStore) -> bool:
    """A unit may answer: it is no question itself (an FAQ's "Q2: …?"), names enough of what is asked
    and holds the kind of fact asked for."""
    return not is_question(candidate.text) and candidate.coverage >= MIN_UNIT_COVERAGE \
        and (not query.answer_type or _has_type(query, candidate.text, store))


def passage_features(query: Query, hits: list[Hit], candidates: list[Candidate], store: IndexStore) -> list[list[float]]:
    """The answerability features of each retrieved passage."""
    unknown = unknown_share(query, store)
    rows = []
    for rank, hit in enumerate(hits):
        units = [c for c in candidates if c.block == hit.key]
        unit_dense = max((c.dense for c in units), default=0.0)
        type_ok = not query.answer_type or any(_has_type(query, c.text, store) for c in units)
        rows.append(features(query, hit, rank, unit_dense, type_ok, unknown, store))
    return rows


def compose(query: Query, vector: np.ndarray, hits: list[Hit], store: IndexStore, model: AnswerabilityModel) -> Draft:
    """Choose the answer's sentences, fact sheet first, from passages judged to answer; else abstain."""
    candidates = score_units(query, vector, hits, store)
    probabilities = {
        hit.key: model.probability(row)
        for hit, row in zip(hits, passage_features(query, hits, candidates, store))
    }
    answering = {key for key, p in probabilities.items() if p >= model.threshold}
    best_p = max(probabilities.values(), default=0.0)
    usable = [c for c in candidates if c.block in answering and is_usable(query, c, store)]
    if not usable:
        return Draft(abstained=True, reason=f"no passage answers (best {best_p:.2f})")
    best = next((c for c in usable if c.doc == "factsheet"), usable[0])
    chosen = [best]
    if not query.answer_type:
        for candidate in usable:
            if len(chosen) >= MAX_SENTENCES or candidate.score < EXTRA_RATIO * best.score:
                break
            if candidate not in chosen and candidate.doc == best.doc:
                chosen.append(candidate)
    # the best passage first; several sentences of one passage in their reading order
    passages = list(dict.fromkeys(c.chunk for c in chosen))
    chosen.sort(key=lambda c: (passages.index(c.chunk), c.unit))
    return Draft(sentences=[Sentence(c.text, (c.chunk,), c.doc) for c in chosen])
