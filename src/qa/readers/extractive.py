"""The extractive reader: quotes the sentences that answer, from passages judged to answer.

Its draft is also the baseline every other reader is given: what the extractive checks already know
(a name the documents never use, a kind of fact no passage holds) is decided here once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from qa.aggregate import aggregate
from qa.answerability import unknown_names
from qa.compose import Policy, compose
from qa.digest import (
    BRIEF_SENTENCES,
    document_digest,
    faq_answer,
    is_narrow,
    named_sections,
    section_brief,
    section_in_full,
    topic_section,
)
from qa.readers.base import Draft, ReadRequest

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from qa.index import IndexStore
    from qa.query import Query
    from qa.retriever import Hit


class ExtractiveReader:
    """Answers by quoting the documents; needs no model beyond the embedder."""

    name = "extractive"

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def draft(self, query: Query, vector: np.ndarray, focus_vector: np.ndarray, ranked: list[Hit],
              hits: list[Hit], store: IndexStore) -> Draft:
        """The extractive answer for one reading of the question: ``hits`` are the passages it may quote,
        ``ranked`` the longer list a broad question's section vote reads."""
        if (total := aggregate(query, ranked, store, query.document or self.policy.primary)) is not None:
            return total
        draft = compose(query, focus_vector, hits, store, self.policy)
        if query.broad:
            return self._broad(query, vector, ranked, store, draft)
        if draft.abstained and query.document and not query.focus_tokens:  # "What is the article about?"
            return self._digest(query, store, query.document) or draft
        return draft

    @staticmethod
    def _digest(query: Query, store: IndexStore, doc: str) -> Draft | None:
        """One document in brief, or None when it has no passage in the question's language."""
        digest = document_digest(query, store, doc)
        return Draft(sentences=digest, brief=True) if digest else None

    def read(self, request: ReadRequest, config: RunnableConfig | None = None) -> Draft:
        return request.baseline

    def stream(self, request: ReadRequest, config: RunnableConfig | None = None) -> Iterator[str | Draft]:
        """Each sentence as text, then the draft."""
        for sentence in request.baseline.sentences:
            yield sentence.text
        yield request.baseline

    def _broad(self, query: Query, vector: np.ndarray, ranked: list[Hit], store: IndexStore,
               draft: Draft) -> Draft:
        """A broad question: the plain answer when it names something the documents never use; the
        section whose heading it names, of the document it names (else the primary one), in full when short,
        else in brief; that document in brief when it asks for the main points of no section in particular;
        the commentary's FAQ answer when the top passage is an FAQ entry asking the same; the plain answer
        when it names nothing or asks one fact; else the section it is about, in brief."""
        if unknown_names(query, store):  # "… Korean companies?"
            return draft
        primary = self.policy.primary
        doc = query.document or primary
        if named := named_sections(query, doc, store):  # "重要エネルギーインフラ投資の概要は？": short ones in full
            full = [s for section in named for s in section_in_full(doc, query.lang, section, store)]
            brief = full if len(full) <= BRIEF_SENTENCES else \
                [s for section in named for s in section_brief(query, vector, doc, section, store, primary)]
            if brief:
                return Draft(sentences=brief[:BRIEF_SENTENCES], brief=True)
        topic = topic_section(query, ranked, store)
        if query.summary and not (topic and topic.named) and (digest := self._digest(query, store, doc)):
            return digest
        if faq := faq_answer(query, vector, ranked[:1], store):
            return Draft(sentences=faq, brief=True)
        if not query.focus_tokens and not query.summary:  # "Why?" alone
            return draft
        if not draft.abstained and not query.summary and is_narrow(query, store):  # main points are no one fact
            return draft
        brief = section_brief(query, vector, topic.doc, topic.section, store, primary) if topic else []
        return Draft(sentences=brief, brief=True) if brief else draft
