"""The question-answering chain: a LangChain Runnable from ``{"question", "history"}`` to an Answer."""

from __future__ import annotations

import re
import sys
import time
from dataclasses import replace
from collections.abc import Iterator
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig

from qa.answer import Answer, AnswerChunk, Citation
from qa.answerability import AnswerabilityModel
from qa.compose import Policy
from qa.config import Settings
from qa.conflicts import disputed_blocks, load_conflicts
from qa.corpus import LANGUAGES
from qa.digest import SECTION_VOTERS
from qa.embeddings import get_embedder
from qa.index import IndexStore, LiveIndex, build_index, build_needed, corpus_source
from qa.manifest import load_manifest
from qa.premise import correction
from qa.query import Query, analyse
from qa.ranker import UnitRanker
from qa.readers import get_reader
from qa.readers.base import Draft, ReadRequest
from qa.readers.extractive import ExtractiveReader
from qa.retriever import Hit, HybridRetriever
from qa.variants import rewrite

SEARCH_DEPTH = 5


_FIRST_WORD = re.compile(r"([A-Z][a-z]*)(?:-[a-z]+)*\b(?![-\d])")  # "Economic", "Large-scale"; not "US", "A3", "US-Japan"
_LEADING_CONJUNCTION = re.compile(r"^(および|ならびに|及び|並びに)")  # a list item cut from its sentence


def _sentence(text: str, lang: str, marker: str, attribution: str, proper_names: frozenset[str]) -> str:
    """One answer sentence with its citation markers; a commentary's words follow its ``attribution``
    ("according to the article"), their first word lower-cased unless it is a name or an acronym
    ("economic", "Japan", "US")."""
    text = _LEADING_CONJUNCTION.sub("", text.strip().rstrip("。.．;；、,"))
    if attribution:
        first = _FIRST_WORD.match(text)
        lower = lang == "en" and first is not None and first.group(1) not in proper_names
        text = attribution + (text[0].lower() + text[1:] if lower else text)
    if lang == "ja":
        return f"{text}。{marker}"
    return f"{text[0].upper()}{text[1:]} {marker}."


def _same_language(rewritten: Query, original: Query) -> Query:
    """A rewritten reading of a question, still shown as asked and answered in the language it was asked in
    ("技術 MOC" stays Japanese after "MOC" is spelt out)."""
    alternative = rewritten.alternative and _same_language(rewritten.alternative, original)
    return replace(rewritten, text=original.text, lang=original.lang, alternative=alternative)


class QAChain(Runnable[dict, Answer]):
    """Retrieve, compose (extractively, or with an optional chat model), cite, note conflicts."""

    def __init__(self, settings: Settings | None = None, llm: Any = None) -> None:
        self.settings = settings or Settings()
        reason = build_needed(self.settings.index_dir)
        if reason:
            print(f"{reason}: building it now.", file=sys.stderr)
            print(build_index(self.settings).summary(), file=sys.stderr)
        self.embedder = get_embedder(self.settings.embedder)
        self.index = LiveIndex(self.settings)
        self.index.get()  # fail early on a missing or mismatched index
        self.retriever = HybridRetriever(
            index=self.index, embedder=self.embedder, mode=self.settings.retrieval, k=self.settings.top_k
        )
        self.manifest = load_manifest(corpus_source(self.settings))  # the index's copy once the corpus is gone
        self.conflicts = load_conflicts(corpus_source(self.settings), self.manifest)
        self.extractive = ExtractiveReader(Policy(AnswerabilityModel.load(), self.manifest.primary.id,
                                                  UnitRanker.load(), disputed_blocks(self.conflicts)))
        self.reader = get_reader(self.settings, llm)

    # -- Runnable

    def invoke(self, input: dict | str, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        if isinstance(input, str):
            input = {"question": input}
        return self.answer(input.get("question"), input.get("history") or [], exclude_faq=input.get("exclude_faq", False))

    def stream(self, input: dict | str, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[AnswerChunk]:
        """The answer as ``AnswerChunk``s: its text, then the complete ``Answer``."""
        answer = self.invoke(input, config, **kwargs)
        yield AnswerChunk(text=answer.answer)
        yield AnswerChunk(answer=answer)

    # -- the pipeline

    def answer(self, question: Any, history: list[dict] | None = None, exclude_faq: bool = False) -> Answer:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        query = analyse(question, history, self.settings.max_question_chars)
        store = self.index.get()
        rewritten = rewrite(query.text, store)
        if rewritten != query.text:  # a near-miss spelling, or an acronym the documents define
            query = _same_language(analyse(rewritten, history, 2 * self.settings.max_question_chars), query)
        query = replace(query, document=self.manifest.named_in(query.asked))
        draft, hits = self._draft(query, store, exclude_faq, timings)
        if draft.abstained and query.alternative is not None:  # read as a follow-up after all
            query = query.alternative
            draft, hits = self._draft(query, store, exclude_faq, timings)
        clock = time.perf_counter()
        if self.reader is not None:
            draft = self.reader.read(ReadRequest(query, hits, store, draft))
            timings["read"] = (time.perf_counter() - clock) * 1000
            clock = time.perf_counter()
        answer = self._render(query, draft, hits, store)
        timings["compose"] = timings.get("compose", 0.0) + (time.perf_counter() - clock) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        answer.timings = timings
        return answer

    def _draft(self, query: Query, store: IndexStore, exclude_faq: bool, timings: dict[str, float]) -> tuple[Draft, list[Hit]]:
        """Retrieve for one reading of the question and draft its extractive answer."""
        clock = time.perf_counter()
        vector = self.embedder.embed_query_array(query.search_text)
        focus_vector = self.embedder.embed_query_array(query.asked) if query.history_question else vector
        timings["embed"] = timings.get("embed", 0.0) + (time.perf_counter() - clock) * 1000
        ranked = self.retriever.search(query.search_text, query_vector=vector, store=store, exclude_faq=exclude_faq,
                                       k=2 * SECTION_VOTERS, timings=timings)  # broad questions vote with more
        hits = ranked[:self.settings.top_k]
        clock = time.perf_counter()
        draft = self.extractive.draft(query, vector, focus_vector, ranked, hits, store)
        timings["compose"] = timings.get("compose", 0.0) + (time.perf_counter() - clock) * 1000
        return draft, hits

    def _render(self, query: Query, draft: Draft, hits: list[Hit], store: IndexStore) -> Answer:
        lang = query.lang
        if draft.abstained:
            return Answer(query.text, lang, self.manifest.abstain_text(lang), True, reader=draft.reader)
        if draft.sentences and not draft.brief:  # "… $30 billion …?" when the documents say $20 billion
            said = " ".join(s.text for s in draft.sentences)
            if fix := correction(query.asked, said, said, lang):
                first = draft.sentences[0]
                joined = fix + (first.text if lang == "ja" else " " + first.text[:1].upper() + first.text[1:])
                draft = replace(draft, sentences=[replace(first, text=joined), *draft.sentences[1:]])
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        sentences = []
        for sentence in draft.sentences:
            for index in sentence.chunks:
                if index not in numbers:
                    numbers[index] = len(numbers) + 1
                    citations.append(self._citation(numbers[index], index, store))
            markers = "".join(f"[{numbers[i]}]" for i in sentence.chunks)
            attributed = sentence.attributed or self.manifest.is_primary(sentence.doc)
            attribution = "" if attributed else self.manifest.get(sentence.doc).attribution(lang)
            sentences.append(_sentence(sentence.text, lang, markers, attribution, store.proper_names))
        text = ("" if lang == "ja" else " ").join(sentences)
        cited_blocks = {store.chunks[i].block_key for i in numbers}
        retrieved = {h.key for h in hits} | cited_blocks  # a section in brief cites beyond the top passages
        conflicts = [note.conflict(lang) for note in self.conflicts if note.applies(cited_blocks, retrieved)]
        return Answer(query.text, lang, text, False, citations, conflicts, reader=draft.reader)


    @staticmethod
    def _citation(n: int, index: int, store: IndexStore) -> Citation:
        chunk = store.chunks[index]
        twin_index = store.twin(index)
        twin = store.chunks[twin_index] if twin_index is not None else None
        return Citation(
            n=n, doc=chunk.doc, section=chunk.section, lang=chunk.lang, text=chunk.text, chunk_id=chunk.chunk_id,
            twin_text=twin.text if twin else "", twin_chunk_id=twin.chunk_id if twin else "",
        )


def build_chain(settings: Settings | None = None, llm: Any = None) -> QAChain:
    """The chain over the persisted index (built first if missing), reading with ``llm`` if given, else
    with the reader ``settings`` ask for (``QA_READER``, ``QA_LLM``)."""
    return QAChain(settings, llm)


__all__ = ["LANGUAGES", "QAChain", "build_chain"]
