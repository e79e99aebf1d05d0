"""Scoring one eval item: ask the chain, judge the answer against key facts and gold clauses, and
measure retrieval on one language's index at a time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qa.evaluation.data import GoldClause, gold_clauses
from qa.evaluation.matching import (
    answer_sentences,
    asserts,
    denies,
    fact_in,
    is_only_polarity,
    polarity,
    strip_attribution,
    supports,
)
from qa.text import detect_language

if TYPE_CHECKING:
    from qa.answer import Answer
    from qa.chain import QAChain
    from qa.index import IndexStore
    from qa.retriever import HybridRetriever

LANGS = ("ja", "en")
RETRIEVAL_K = 5
MRR_DEPTH = 10


@dataclass
class Result:
    """One item's scores; ``None`` where a metric does not apply."""

    item: dict[str, Any]
    category: str
    lang: str
    answerable: bool
    abstained: bool
    language_ok: bool
    correct: bool = False
    fact_recall: float | None = None
    correct_clause: bool | None = None
    gold_clause_support: float | None = None
    citation_precision: float | None = None
    gold_cited: float | None = None
    polarity_ok: bool | None = None
    premise_ok: bool | None = None
    premise_corrected: bool | None = None
    conflict_found: bool | None = None
    latency_ms: float = 0.0
    retrieval: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str | None:
        return self.item.get("family")

    @property
    def wording(self) -> str | None:
        return self.item.get("wording")


@dataclass(frozen=True)
class Cited:
    """A citation of an answer: its block and the passage text it shows."""

    block: str
    lang: str
    text: str


def question_of(item: dict[str, Any]) -> str:
    question: str = item.get("question") or item["followup"]
    return question


def ask(chain: QAChain, category: str, item: dict[str, Any]) -> tuple[Answer, float]:
    """The chain's answer to the item (a follow-up after its first turn), and the seconds it took."""
    history: list[dict[str, str]] = []
    if category == "followups":
        first = chain.invoke({"question": item["first"], "history": []})
        history = [{"role": "user", "content": item["first"]}, {"role": "assistant", "content": first.answer}]
    started = time.perf_counter()
    request: dict[str, Any] = {"question": question_of(item), "history": history}
    if category == "faq":  # the article's FAQ answers are held out of retrieval for its own questions
        request["exclude_faq"] = True
    answer = chain.invoke(request)
    return answer, time.perf_counter() - started


def cited_passages(answer: Answer, store: IndexStore) -> dict[int, Cited]:
    """The answer's citations by number, with their block keys."""
    out = {}
    for c in answer.citations:
        index = store.by_id.get(c.chunk_id)
        block = store.chunks[index].block_key if index is not None else c.chunk_id
        out[c.n] = Cited(block, c.lang, c.text)
    return out


def _facts_of(item: dict[str, Any]) -> list[str]:
    return list(item.get("key_facts", []))


def score_answer(category: str, item: dict[str, Any], text: str, abstained: bool, language: str,
                 cited: dict[int, Cited], gold: list[GoldClause]) -> Result:
    """Judge one answer. ``text`` is the answer with its ``[n]`` markers; ``cited`` maps each marker to
    its passage; ``gold`` gives the gold clauses (empty for questions without gold)."""
    lang = item["lang"]
    answerable = category != "unanswerable"
    result = Result(item=item, category=category, lang=lang, answerable=answerable, abstained=abstained,
                    language_ok=language == lang and (abstained or detect_language(text) == lang))
    if not answerable:
        result.correct = abstained
        return result
    facts = _facts_of(item)
    sentences = [] if abstained else answer_sentences(text)
    if facts:
        result.fact_recall = 0.0 if abstained else sum(fact_in(f, text) for f in facts) / len(facts)
    claims = [(s, numbers) for s, numbers in sentences if not is_only_polarity(s)]
    if claims:
        result.citation_precision = sum(
            any(supports(cited[n].text, s) for n in numbers if n in cited) for s, numbers in claims
        ) / len(claims)
    gold_keys = {g.block for g in gold}
    if gold_keys and not abstained:
        cited_blocks = {c.block for c in cited.values()}
        result.gold_cited = len(gold_keys & cited_blocks) / len(gold_keys)
    if gold_keys:
        result.correct_clause, result.gold_clause_support = _clause_scores(facts, claims, cited, gold)
    result.correct = not abstained and (result.fact_recall in (None, 1.0))
    if category == "yesno":
        said = None if abstained else polarity(text, lang)
        result.polarity_ok = said == item.get("expected")
        result.correct = result.correct and result.polarity_ok
    elif category == "premise":
        wrong: str | list[str] | None = item.get("wrong")
        result.premise_ok = not abstained and not (wrong and asserts(wrong, text))
        result.premise_corrected = not abstained and bool(wrong) and wrong is not None and denies(wrong, text, lang)
        result.correct = result.correct and result.premise_ok
    return result


def _clause_scores(facts: list[str], claims: list[tuple[str, list[int]]], cited: dict[int, Cited],
                   gold: list[GoldClause]) -> tuple[bool, float]:
    """Correct clause: every key fact is said by a sentence that cites a gold block (with no key facts,
    some sentence cites one). Gold-clause citation support: the share of gold clauses that some sentence
    citing the clause's block shows, i.e. the clause holds the sentence's facts or the sentence holds the
    clause's (not merely another sentence of the same passage)."""
    gold_keys = {g.block for g in gold}
    on_gold = [(s, [cited[n] for n in numbers if n in cited and cited[n].block in gold_keys])
               for s, numbers in claims]
    on_gold = [(s, passages) for s, passages in on_gold if passages]
    if facts:
        correct = all(any(fact_in(f, s) for s, _ in on_gold) for f in facts)
    else:
        correct = bool(on_gold)

    def shows(sentence: str, passage: Cited, clause: GoldClause) -> bool:
        text = clause.clause.get(passage.lang)
        if not text:  # this language's clauses do not line up with the Japanese ones: judge by the passage
            return supports(passage.text, sentence)
        sentence = strip_attribution(sentence)
        return supports(text, sentence) or supports(sentence, text)

    shown: dict[int, bool] = {}
    for g in gold:  # a quote is shown when any of the blocks holding it is
        shown[g.quote] = shown.get(g.quote, False) or any(
            shows(s, p, g) for s, passages in on_gold for p in passages if p.block == g.block)
    return correct, sum(shown.values()) / len(shown)


def score_item(category: str, item: dict[str, Any], chain: QAChain, store: IndexStore) -> Result:
    """Ask the item's question(s) with ``chain`` and score the answer."""
    answer, seconds = ask(chain, category, item)
    gold = gold_clauses(item, store) if category != "unanswerable" else []
    result = score_answer(category, item, answer.answer, answer.abstained, answer.language,
                          cited_passages(answer, store), gold)
    result.latency_ms = seconds * 1000
    result.answer = answer.to_dict()
    if category == "conflicts":
        result.conflict_found = bool(answer.conflicts)
    return result


def retrieval_scores(category: str, item: dict[str, Any], retrievers: dict[str, HybridRetriever],
                     store: IndexStore) -> dict[str, dict[str, tuple[float, float]]]:
    """Per mode and direction, (hit in the top 5, reciprocal rank in the top 10) of the item's gold blocks.

    ``S→T`` searches the language-T index alone with the question in language S, so a cross-lingual
    figure is not lifted by the twin of a passage found in the question's own language. ``S→*``
    searches both, as answers do."""
    keys = {g.block for g in gold_clauses(item, store)}
    if not keys:
        return {}
    text = question_of(item) if category != "followups" else f"{question_of(item)} {item['first']}"
    exclude_faq = category == "faq"
    scores: dict[str, dict[str, tuple[float, float]]] = {}
    for mode, retriever in retrievers.items():
        scores[mode] = {}
        for target, langs in [(t, (t,)) for t in LANGS] + [("*", LANGS)]:
            hits = retriever.search(text, langs=langs, exclude_faq=exclude_faq, store=store, k=MRR_DEPTH)
            rank = next((i for i, h in enumerate(hits) if h.key in keys), None)
            scores[mode][f"{item['lang']}→{target}"] = (
                float(rank is not None and rank < RETRIEVAL_K), 1.0 / (rank + 1) if rank is not None else 0.0)
    return scores
