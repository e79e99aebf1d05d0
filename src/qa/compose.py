"""Extractive answers: pick the sentences or list items that answer, or abstain.

No language model is involved: every sentence of an answer is a unit (sentence
or list item) of a cited passage, taken from the passage's twin in the
question's language. Whether a passage answers at all is decided by the
calibrated answerability model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from qa.answerability import (
    AnswerabilityModel,
    asked_for,
    coverage_terms,
    features,
    is_unknown,
    term_in,
    unknown_share,
    unknown_names,
    unknown_terms,
)
from qa.index import IndexStore
from qa.numbers import is_money, number_tokens
from qa.query import Query
from qa.ranker import UnitRanker, unit_rows
from qa.readable import announces_list, strip_label, with_antecedent, with_lead
from qa.readers.base import Draft, Sentence
from qa.retriever import Hit
from qa.text import (
    REGION, has_cjk, is_country, is_question, name_tokens, name_words, place_mentions, romaji_key, tokens,
)
from qa.ubiquity import SETTING_SHARE, beyond_setting, is_setting, ubiquitous

DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.5
RANK_WEIGHT = 0.1
TYPE_BONUS = 0.15
EXTRA_RATIO = 0.92
MAX_SENTENCES = 3
MIN_UNIT_COVERAGE = 0.25  # a chosen sentence names at least this much of what the question asks about

# days named relative to when the documents were written, a closed class: "today", "this week", "Sunday", 本日, 今週
_RELATIVE_DAYS = re.compile(r"\b(?:today|yesterday|tomorrow|(?:this|last|next) (?:week|month)|"
                            r"(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b|本日|今日|昨日|明日|[今先来](?:週|月)|[月火水木金土日]曜",
                            re.IGNORECASE)



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
    leans_on_lead: bool = False  # what it is about is named only in an earlier sentence of its passage


def has_type(text: str, kind: str, after_year: int = 0, store: IndexStore | None = None, twin: str | None = None,
             exact: bool = False) -> bool:
    """Whether ``text`` holds the kind of answer asked for (a date later than ``after_year``, if given; a
    place the documents do not mention everywhere, given their ``store``). Japanese place names are found
    by morphology, which also tags companies named after a town (日立): given the ``twin`` passage in the
    other language, it must name a place too. With ``exact``, a region ("米国西部") or a country ("China") is
    no place and a relative day ("earlier this week") no date."""
    found = number_tokens(text)
    if kind == "date" and after_year:
        return any(re.fullmatch(r"num:(19|20)\d\d", t) and int(t[4:]) > after_year for t in found)
    if kind == "amount":
        return any(is_money(t) for t in found)
    if kind == "percent":
        return any(t.startswith("pct:") for t in found)
    if kind == "date":
        return any(t.startswith("month:") or re.fullmatch(r"num:(19|20)\d\d", t) for t in found) or (
            not exact and bool(_RELATIVE_DAYS.search(text)))
    if kind == "place":
        def names_place(words: str) -> bool:
            return any((store is None or not is_setting(p, store))
                       and not (exact and (REGION.fullmatch(p) or is_country(p))) for p in place_mentions(words))
        return names_place(text) and (twin is None or not has_cjk(text) or names_place(twin))
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


def _has_type(query: Query, candidate: Candidate, store: IndexStore) -> bool:
    text = candidate.text
    twin = store.twin(candidate.chunk)
    twin_text = store.chunks[twin].text if twin is not None else None
    if query.answer_type == "name":
        # a name with a word the question does not give, other than the setting's; Japanese names are noun
        # compounds found by morphology, which also takes a basin or a district for one: the twin passage in
        # the other language must name someone too
        asked = set(tokens(query.search_text)) | ubiquitous(store, SETTING_SHARE)

        def names_someone(words: str) -> bool:
            return any(set(tokens(name)) - asked for name in name_words(words))

        return names_someone(text) and (twin_text is None or not has_cjk(text) or names_someone(twin_text))
    return has_type(text, query.answer_type, latest_year(store) if query.future else 0, store, twin_text, query.exact)


def is_foreign(term: str, lang: str) -> bool:
    """A term in the other language's script: Japanese in an English question, Latin in a Japanese one.

    Only terms that the question's own language never uses count (Japanese text writes "LNG" too)."""
    return has_cjk(term) if lang == "en" else term.isascii() and term.isalpha()


def score_units(query: Query, vector: np.ndarray, hits: list[Hit], store: IndexStore) -> list[Candidate]:
    """Every unit of the retrieved passages in the question's language, best first. A unit's coverage counts
    the question terms the documents use: a word no passage holds ("アメ車") tells no sentence apart, and
    whether the passages answer despite it is the answer-or-refuse model's call. Not so for a reading that
    leans on an earlier turn or remarks: the earlier terms would cover for a question of another topic
    ("What will the weather be in Tokyo tomorrow?" after a question about Tokyo Gas)."""
    terms = coverage_terms(query, store, sentence=True)
    unknown = frozenset() if query.history_question else unknown_terms(query, store)
    weights = {t: store.idf_of(t, query.lang) for t in terms if t not in unknown or unknown >= set(terms)}
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
            (is_foreign(t, query.lang) and t in twin_tokens) or (query.lang == "en" and romaji_key(t) in twin_tokens))}
        units, unit_vectors = store.units(index)
        dense = unit_vectors @ vector if len(units) else np.zeros(0)
        unit_token_sets = [_aliased(query, t) for t in store.unit_token_sets(index)]
        section_tokens = _aliased(query, section_tokens)
        for n, (unit, unit_tokens, similarity) in enumerate(zip(units, unit_token_sets, dense)):
            # the passage's first sentence and its headings say what a later sentence is about ("It costs …")
            lead = unit_token_sets[0] - unit_tokens if n else frozenset()
            leans_on_lead = any(t in lead and ":" not in t for t in weights)  # a name, not an amount
            lexical = _held_weight(weights, unit_tokens, lead, section_tokens, twin_terms)
            score = DENSE_WEIGHT * float(similarity) + LEXICAL_WEIGHT * lexical / total
            unit_coverage = lexical / total
            score += RANK_WEIGHT * hit.score / top
            candidate = Candidate(unit, index, hit.key, chunk.doc, score, float(similarity), unit_coverage, n,
                                  leans_on_lead)
            if query.answer_type:
                candidate.score += TYPE_BONUS if _has_type(query, candidate, store) else -TYPE_BONUS
            candidates.append(candidate)
    return sorted(candidates, key=lambda c: -c.score)


def _held_weight(weights: dict[str, float], unit_tokens: frozenset[str], lead: frozenset[str],
                 section_tokens: frozenset[str], twin_terms: set[str]) -> float:
    """The weight of the question terms a unit holds: in itself or its passage's lead sentence in full, in
    its headings at half weight, and names checked on the twin in full."""
    around = section_tokens | lead
    held = sum(w for t, w in weights.items() if t in unit_tokens or t in lead)
    held += 0.5 * sum(w for t, w in weights.items() if t in section_tokens and t not in unit_tokens | lead)
    return held + sum(weights[t] for t in twin_terms if t not in unit_tokens and t not in around)


def _aliased(query: Query, found: frozenset[str]) -> frozenset[str]:
    """``found`` with the question terms that what it holds stands for ("moc" where 協力 and 覚え書き are)."""
    if not query.aliases:
        return found
    return found | {term for term, group in query.aliases if set(group) <= found}


def is_usable(query: Query, candidate: Candidate, store: IndexStore) -> bool:
    """A unit may answer: it is no question itself (an FAQ's "Q2: …?"), names enough of what is asked,
    holds the kind of fact asked for, does not name what the question sets aside and, when the question
    asks what else there is, was not said in the previous answer (every word of it there)."""
    return not is_question(candidate.text) and candidate.coverage >= MIN_UNIT_COVERAGE \
        and (not query.answer_type or _has_type(query, candidate, store)) \
        and not (query.excluded and set(query.excluded) & store.unit_token_sets(candidate.chunk)[candidate.unit]) \
        and not (query.shown and store.unit_token_sets(candidate.chunk)[candidate.unit] <= query.shown)


def passage_features(query: Query, hits: list[Hit], candidates: list[Candidate], store: IndexStore) -> list[list[float]]:
    """The answerability features of each retrieved passage."""
    unknown, head = unknown_share(query, store), asked_for(query, store)
    rows = []
    for rank, hit in enumerate(hits):
        units = [c for c in candidates if c.block == hit.key]
        unit_dense = max((c.dense for c in units), default=0.0)
        type_ok = not query.answer_type or any(_has_type(query, c, store) for c in units)
        rows.append(features(query, hit, rank, unit_dense, type_ok, unknown, head, store))
    return rows


@dataclass(frozen=True)
class Policy:
    """What the extractive reader decides with: the answerability model, the learned unit ranker (if any),
    the primary document, and the commentary blocks the primary one contradicts (each with the primary
    blocks that say otherwise)."""

    answerability: AnswerabilityModel
    primary: str
    ranker: UnitRanker | None = None
    disputed: dict[str, frozenset[str]] = field(default_factory=dict)


def compose(query: Query, vector: np.ndarray, hits: list[Hit], store: IndexStore, policy: Policy) -> Draft:
    """Choose the answer's sentences, the primary document first, from passages judged to answer; else
    abstain. Among the sentences that may answer, the learned ranker (when there is one) picks. A
    commentary passage the primary document contradicts gives way to the primary passage, if retrieved."""
    if unknown := unknown_names(query, store):  # another entity than the documents'
        return Draft(abstained=True, reason=f"the documents never name {', '.join(sorted(unknown))}")
    candidates = score_units(query, vector, hits, store)
    rows = passage_features(query, hits, candidates, store)
    probabilities = {hit.key: policy.answerability.probability(row) for hit, row in zip(hits, rows)}
    answering = {key for key, p in probabilities.items() if p >= policy.answerability.threshold}
    best_p = max(probabilities.values(), default=0.0)
    usable = [c for c in candidates if c.block in answering and is_usable(query, c, store)]
    if not usable:
        return Draft(abstained=True, reason=f"no passage answers (best {best_p:.2f})")
    if policy.ranker is not None:
        p = policy.ranker.probabilities(unit_rows(candidates, {h.key: r for h, r in zip(hits, rows)},
                                                  unit_type_ok(query, candidates, store), store))
        learned = {id(c): float(score) for c, score in zip(candidates, p)}
        usable.sort(key=lambda c: -learned[id(c)])
    score = (lambda c: learned[id(c)]) if policy.ranker is not None else (lambda c: c.score)
    answers = [c for c in usable if not announces_list(c.chunk, c.unit, store)] or usable
    wanted = query.document or policy.primary
    best = next((c for c in answers if c.doc == wanted), answers[0])
    if best.block in policy.disputed and not query.document:
        said_otherwise = [c for c in candidates if c.block in policy.disputed[best.block] and is_usable(query, c, store)]
        best = said_otherwise[0] if said_otherwise else best
    chosen = [best]
    if not query.answer_type:
        for candidate in answers:
            if len(chosen) >= MAX_SENTENCES or score(candidate) < EXTRA_RATIO * score(best):
                break
            if candidate not in chosen and candidate.doc == best.doc:
                chosen.append(candidate)
    return _draft(chosen + each_name(query, chosen, candidates, score, store), store)


def each_name(query: Query, chosen: list[Candidate], candidates: list[Candidate], score: Callable[[Candidate], float],
              store: IndexStore) -> list[Candidate]:
    """For a question naming several things the documents name ("Fujikura or Murata?"), the best unit
    about each one the chosen units do not name (the chosen document's first), so that no one of them
    goes unanswered."""
    names = sorted(n for n in beyond_setting(name_tokens(query.asked), store)
                   if not is_unknown(n, store) and n not in query.excluded)
    if len(names) < 2:
        return []
    ranked = sorted((c for c in candidates if is_usable(query, c, store)),
                    key=lambda c: (c.doc != chosen[0].doc, -score(c)))
    added: list[Candidate] = []

    def names_it(candidate: Candidate, name: str) -> bool:
        return term_in(name, frozenset(tokens(candidate.text)), candidate.text)

    for name in names:
        if not any(names_it(c, name) for c in chosen + added):
            added += [c for c in ranked if names_it(c, name) and c not in chosen][:1]
    return added


def unit_type_ok(query: Query, candidates: list[Candidate], store: IndexStore) -> list[bool]:
    return [not query.answer_type or _has_type(query, c, store) for c in candidates]


def _draft(chosen: list[Candidate], store: IndexStore) -> Draft:
    """The chosen units as answer sentences: the best passage first, one passage's units in reading order."""
    passages = list(dict.fromkeys(c.chunk for c in chosen))
    chosen = sorted(chosen, key=lambda c: (passages.index(c.chunk), c.unit))
    shown = {(c.chunk, c.unit) for c in chosen}
    return Draft(sentences=[Sentence(_readable(c, store, shown), (c.chunk,), c.doc) for c in chosen])


def _readable(candidate: Candidate, store: IndexStore, shown: set[tuple[int, int]]) -> str:
    """The unit as it reads on its own: after the sentence it points back to (unless that is shown too),
    without an FAQ label."""
    if (candidate.chunk, candidate.unit - 1) in shown:
        text = candidate.text
    elif candidate.leans_on_lead and (candidate.chunk, 0) not in shown:
        text = with_lead(candidate.chunk, candidate.unit, store)
    else:
        text = with_antecedent(candidate.chunk, candidate.unit, store)
    return strip_label(text)
