"""Answers to broad questions: the section a question is about in brief, or the primary document in brief.

A broad question ("How does this affect Japanese companies?", "安全保障面での具体的な協力とは？")
is answered by a whole section rather than one sentence. The section is the one the
retrieved passages point to most. An article section is already a summary: its
sentences are the answer, each also citing the one fact-sheet passage that holds its
facts, where there is one. A fact-sheet section is summed up by the lead sentence of
each of its passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa.answerability import term_in
from qa.chunks import SECTION_SEPARATOR
from qa.compose import Candidate, score_units
from qa.readable import points_back, strip_label
from qa.readers.base import Sentence
from qa.index import IndexStore
from qa.query import Query
from qa.retriever import Hit
from qa.terms import is_weak_content
from qa.text import is_question, normalize, tokens
from qa.ubiquity import ubiquitous

SECTION_VOTERS = 12  # retrieved passages that vote for the section a broad question is about
BRIEF_SENTENCES = 12  # at most this many sentences from the section a broad question is about
NARROW_PASSAGES = 2  # a question whose terms gather in this many passages at most is about one fact
NARROW_CANDIDATES = 20  # passages (BM25's best for the question's terms) that narrowness is judged on
FAQ_MATCH = 0.87  # an FAQ entry answers a question this similar (e5 cosine) to its own question line
NAMED_SECTION = 0.75  # a heading is named when the question holds this share of its terms (by rarity)
_LIST_LEAD = re.compile(r"\bthe following\b|\bas follows\b|以下の")
_ASIDE = re.compile(r"[(（].*[)）]")  # a parenthetical on its own ("(1.8 pass)")


def top_section(section: str) -> str:
    return section.split(SECTION_SEPARATOR)[0]


def in_section(section: str, top: str) -> bool:
    """``section`` is ``top`` or one of its subsections."""
    return section == top or section.startswith(top + SECTION_SEPARATOR)


@dataclass(frozen=True)
class Topic:
    """The section a broad question is about; ``named`` when a heading of it names the question's topic."""

    doc: str
    section: str
    named: bool


def topic_section(query: Query, hits: list[Hit], store: IndexStore) -> Topic | None:
    """The top-level section that the best ``SECTION_VOTERS`` retrieved passages outside the FAQ point to
    most. Each votes for its section with its fused score times the share of the question's terms it
    holds; a section whose heading names them counts up to twice. A document's opening does not vote."""
    weights = _term_weights(query, store)
    topics = {t for t in weights if t not in ubiquitous(store)}
    votes: dict[tuple[str, str], float] = {}
    headings: dict[tuple[str, str], float] = {}
    named: set[tuple[str, str]] = set()
    voters = [(hit, hit.chunks[query.lang]) for hit in hits if query.lang in hit.chunks]
    for hit, index in [(h, i) for h, i in voters if store.chunks[i].kind != "faq"][:SECTION_VOTERS]:
        chunk = store.chunks[index]
        if chunk.opening:
            continue
        key = (chunk.doc, top_section(chunk.section))
        heading = store.heading_tokens(chunk.section)
        votes[key] = votes.get(key, 0.0) + hit.score * _share(weights, store.token_set(index))
        headings[key] = max(headings.get(key, 0.0), _share(weights, heading))
        if topics & heading:
            named.add(key)
    if not any(votes.values()):  # no voter holds a term of the question: it names no section's topic
        return None
    doc, section = best = max(votes, key=lambda key: votes[key] * (1.0 + headings[key]))
    return Topic(doc, section, best in named)


def _term_weights(query: Query, store: IndexStore) -> dict[str, float]:
    return {t: store.idf_of(t, query.lang) for t in query.focus_tokens}


def _share(weights: dict[str, float], terms: frozenset[str]) -> float:
    """The share of the question's terms (weighted by rarity) among ``terms``; 1 for a question without any."""
    if not weights:
        return 1.0
    return sum(w for t, w in weights.items() if t in terms) / sum(weights.values())


def is_narrow(query: Query, store: IndexStore) -> bool:
    """The question's terms gather in one or two passages (a fact, and the article restating it): no
    more than ``NARROW_PASSAGES`` of the passages BM25 ranks best for them hold over half as much of
    them as the best one. "Why can Toyota export cars?" is about one fact; "Why energy and AI?" is not."""
    weights = _term_weights(query, store)
    found = store.lexical_search(list(weights), NARROW_CANDIDATES, query.lang)
    shares = sorted((_share(weights, store.token_set(i)) for i, _ in found if store.chunks[i].kind != "faq"),
                    reverse=True)
    return bool(shares) and shares[0] > 0 and sum(s > shares[0] / 2 for s in shares) <= NARROW_PASSAGES


def named_sections(query: Query, doc: str, store: IndexStore) -> list[str]:
    """The sections of ``doc`` whose own heading the question names, but none under another named one
    ("米国製造業と輸出の強化に並ぶ投資（AI、重要鉱物…）" names the whole section)."""
    asked, text = frozenset(tokens(query.asked)), normalize(query.asked)
    named = []
    for section in dict.fromkeys(store.chunks[i].section for i in store.doc_chunks(doc, query.lang)):
        own = store.heading_tokens(section.split(SECTION_SEPARATOR)[-1])
        weights = {t: store.idf_of(t, query.lang) for t in own if not is_weak_content(t)}
        total = sum(weights.values())
        if total and sum(w for t, w in weights.items() if term_in(t, asked, text)) / total >= NAMED_SECTION:
            named.append(section)
    return [s for s in named if not any(s != other and in_section(s, other) for other in named)]


def faq_answer(query: Query, vector: np.ndarray, hits: list[Hit], store: IndexStore) -> list[Sentence]:
    """The article's own answer when the top passage is an FAQ entry asking the same question (its
    question line at least ``FAQ_MATCH`` similar to the question), without the "A2:" label."""
    index = hits[0].chunks.get(query.lang) if hits else None
    if index is None or store.chunks[index].kind != "faq":
        return []
    units, vectors = store.units(index)
    if len(units) < 2 or not is_question(units[0]) or float(vectors[0] @ vector) < FAQ_MATCH:
        return []
    doc = store.chunks[index].doc
    return [Sentence(strip_label(unit), (index,), doc, attributed=n > 0) for n, unit in enumerate(units[1:])]


def section_brief(query: Query, vector: np.ndarray, doc: str, section: str, store: IndexStore,
                  primary: str) -> list[Sentence]:
    """The section in at most ``BRIEF_SENTENCES`` sentences, in document order: a commentary section's own
    sentences (without questions, asides and list announcements), or the lead sentence of each
    passage of the ``primary`` document."""
    members = [i for i in store.doc_chunks(doc, query.lang)
               if store.chunks[i].kind != "faq" and in_section(store.chunks[i].section, section)]
    candidates = score_units(query, vector, [Hit(store.chunks[i].block_key, store.blocks[store.chunks[i].block_key],
                                                 score=1.0) for i in members], store)
    if doc == primary:  # each passage by its best sentence, told by its lead sentence
        best_per_chunk: dict[int, Candidate] = {}
        for candidate in candidates:
            best_per_chunk.setdefault(candidate.chunk, candidate)
        chosen = sorted(list(best_per_chunk)[:BRIEF_SENTENCES], key=lambda i: store.chunks[i].position)
        return [Sentence(store.chunks[i].units[0], (i,), doc) for i in chosen]
    candidates = [c for c in candidates
                  if not is_question(c.text) and not _LIST_LEAD.search(c.text) and not _ASIDE.fullmatch(c.text)]
    kept = sorted(candidates[:BRIEF_SENTENCES], key=lambda c: (store.chunks[c.chunk].position, c.chunk, c.unit))
    return [Sentence(_with_question(c, store), _with_support(c, store), doc, attributed=n > 0)
            for n, c in enumerate(kept)]


def section_in_full(doc: str, lang: str, section: str, store: IndexStore) -> list[Sentence]:
    """Every sentence and list item of a section (and its subsections) in document order, FAQ entries
    and questions aside, each citing its passage."""
    return [Sentence(strip_label(unit), (i,), doc, attributed=n > 0)
            for n, (i, unit) in enumerate((i, unit) for i in store.doc_chunks(doc, lang)
                                          if store.chunks[i].kind != "faq" and in_section(store.chunks[i].section, section)
                                          for unit in store.chunks[i].units if not is_question(unit))]


def _with_question(candidate: Candidate, store: IndexStore) -> str:
    """The sentence, after the question it answers when the article asks one just before it
    ("Why now? It is to reduce …")."""
    chunk = store.chunks[candidate.chunk]
    if candidate.unit and is_question(chunk.units[candidate.unit - 1]):
        return chunk.units[candidate.unit - 1] + ("" if chunk.lang == "ja" else " ") + candidate.text
    return candidate.text


def _with_support(candidate: Candidate, store: IndexStore) -> tuple[int, ...]:
    """The article passage, and before it the fact-sheet passage that holds the sentence's facts (found
    when the index was built), if one does."""
    backing = store.support[candidate.chunk][candidate.unit]
    return (store.by_id[backing], candidate.chunk) if backing else (candidate.chunk,)


def document_digest(query: Query, store: IndexStore, doc: str) -> list[Sentence]:
    """A document in brief: the first statement of each top-level section that reads on its own (no
    question, no opening "This …" that points back), without its FAQ label."""
    leads: dict[str, Sentence] = {}
    for index in store.doc_chunks(doc, query.lang):
        section = top_section(store.chunks[index].section)
        if section in leads:
            continue
        for unit in store.chunks[index].units:
            if not is_question(unit) and not points_back(strip_label(unit)):
                leads[section] = Sentence(strip_label(unit), (index,), doc)
                break
    return list(leads.values())
