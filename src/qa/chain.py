"""The question-answering chain: a LangChain Runnable from ``{"question", "history"}`` to an Answer."""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableConfig

from qa.answer import Answer, Citation, Conflict
from qa.answerability import AnswerabilityModel, unknown_terms
from qa.compose import ABSTAIN_TEXT, BLOG_PREFIX, compose
from qa.readers.base import Draft
from qa.config import Settings
from qa.corpus import LANGUAGES
from qa.digest import SECTION_VOTERS, document_digest, faq_answer, is_narrow, section_brief, topic_section
from qa.embeddings import get_embedder
from qa.index import IndexStore, LiveIndex, build_index, build_needed
from qa.query import Query, analyse
from qa.retriever import Hit, HybridRetriever
from qa.text import name_tokens

SEARCH_DEPTH = 5


@dataclass(frozen=True)
class ConflictNote:
    """A point where the blog and the fact sheet disagree (from ``corpus/conflicts.json``)."""

    topic: dict[str, str]
    blog_blocks: frozenset[str]
    factsheet_blocks: frozenset[str]
    blog: dict[str, str]
    factsheet: dict[str, str]


def load_conflicts(corpus_dir: Path) -> list[ConflictNote]:
    path = corpus_dir / "conflicts.json"
    if not path.is_file():
        return []
    return [
        ConflictNote(e["topic"], frozenset(e["blog_blocks"]), frozenset(e["factsheet_blocks"]), e["blog"], e["factsheet"])
        for e in json.loads(path.read_text(encoding="utf-8"))
    ]


_FIRST_WORD = re.compile(r"([A-Z][a-z]*)(?:-[a-z]+)*\b(?![-\d])")  # "Economic", "Large-scale"; not "US", "A3", "US-Japan"
_LEADING_CONJUNCTION = re.compile(r"^(および|ならびに|及び|並びに)")  # a list item cut from its sentence


def _sentence(text: str, lang: str, marker: str, from_blog: bool, proper_names: frozenset[str]) -> str:
    """One answer sentence with its citation markers; the article's words follow "according to the
    article", their first word lower-cased unless it is a name or an acronym ("economic", "Japan", "US")."""
    text = _LEADING_CONJUNCTION.sub("", text.strip().rstrip("。.．;；、,"))
    if from_blog:
        first = _FIRST_WORD.match(text)
        lower = lang == "en" and first is not None and first.group(1) not in proper_names
        text = BLOG_PREFIX[lang] + (text[0].lower() + text[1:] if lower else text)
    if lang == "ja":
        return f"{text}。{marker}"
    return f"{text[0].upper()}{text[1:]} {marker}."


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
            index=self.index, embedder=self.embedder, mode=self.settings.retrieval, k=SEARCH_DEPTH
        )
        self.conflicts = load_conflicts(self.settings.corpus_dir)
        self.answerability = AnswerabilityModel.load()
        self.llm = llm

    # -- Runnable

    def invoke(self, input: dict | str, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        if isinstance(input, str):
            input = {"question": input}
        return self.answer(input.get("question"), input.get("history") or [], exclude_faq=input.get("exclude_faq", False))

    # -- the pipeline

    def answer(self, question: Any, history: list[dict] | None = None, exclude_faq: bool = False) -> Answer:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        query = analyse(question, history, self.settings.max_question_chars)
        store = self.index.get()
        clock = time.perf_counter()
        vector = self.embedder.embed_query_array(query.search_text)
        timings["embed"] = (time.perf_counter() - clock) * 1000
        focus_vector = vector
        if query.history_question:
            focus_vector = self.embedder.embed_query_array(query.text)
        ranked = self.retriever.search(query.search_text, query_vector=vector, store=store, exclude_faq=exclude_faq,
                                       k=2 * SECTION_VOTERS, timings=timings)  # broad questions vote with more
        hits = ranked[:SEARCH_DEPTH]
        clock = time.perf_counter()
        if self.llm is not None:
            from qa.llm import llm_draft

            draft = llm_draft(self.llm, query, hits, store)
        else:
            draft = compose(query, focus_vector, hits, store, self.answerability)
            if query.broad:
                draft = self._broad(query, vector, ranked, store, draft)
        answer = self._render(query, draft, hits, store)
        timings["compose"] = (time.perf_counter() - clock) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        answer.timings = timings
        return answer

    def _broad(self, query: Query, vector: np.ndarray, ranked: list[Hit], store: IndexStore, draft: Draft) -> Draft:
        """A broad question: the article's FAQ answer when the top passage is an FAQ entry asking the same;
        the plain answer when the question names nothing, or one fact, or a name the documents never use;
        the fact sheet in brief when it asks for the main points of no section in particular; else the
        section it is about, in brief."""
        if faq := faq_answer(query, vector, ranked[:1], store):
            return Draft(sentences=faq)
        if not query.focus_tokens and not query.summary:  # "Why?" alone
            return draft
        if not draft.abstained and is_narrow(query, store):
            return draft
        unknown = unknown_terms(query, store)
        if unknown and (draft.abstained or unknown & name_tokens(query.text)):  # "… Korean companies?"
            return draft
        topic = topic_section(query, ranked, store)
        if query.summary and not (topic and topic.named):
            if digest := document_digest(query, store):
                return Draft(sentences=digest)
        brief = section_brief(query, vector, topic.doc, topic.section, store) if topic else []
        return Draft(sentences=brief) if brief else draft

    def _render(self, query: Query, draft: Draft, hits: list[Hit], store: IndexStore) -> Answer:
        lang = query.lang
        if draft.abstained:
            return Answer(query.text, lang, ABSTAIN_TEXT[lang], True)
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        sentences = []
        for sentence in draft.sentences:
            for index in sentence.chunks:
                if index not in numbers:
                    numbers[index] = len(numbers) + 1
                    citations.append(self._citation(numbers[index], index, store))
            markers = "".join(f"[{numbers[i]}]" for i in sentence.chunks)
            sentences.append(_sentence(sentence.text, lang, markers, sentence.doc == "blog" and not sentence.attributed,
                                       store.proper_names))
        text = ("" if lang == "ja" else " ").join(sentences)
        cited_blocks = {store.chunks[i].block_key for i in numbers}
        retrieved = {h.key for h in hits} | cited_blocks  # a section in brief cites beyond the top passages
        conflicts = [
            Conflict(note.topic[lang], note.blog[lang], note.factsheet[lang])
            for note in self.conflicts
            if cited_blocks & (note.factsheet_blocks | note.blog_blocks) and note.blog_blocks & retrieved
        ]
        return Answer(query.text, lang, text, False, citations, conflicts)


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
    """The chain over the persisted index (built first if missing)."""
    if llm is None and (settings or Settings()).llm:
        from qa.llm import chat_model_from_spec

        llm = chat_model_from_spec((settings or Settings()).llm)
    return QAChain(settings, llm)


__all__ = ["QAChain", "build_chain", "LANGUAGES"]
