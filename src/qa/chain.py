"""The question-answering chain: a LangChain Runnable from a question (and its history) to an ``Answer``.

Every call runs as one chain run under the caller's config (callbacks, tags, metadata, ``run_name``):
each retrieval is a child retriever run, and a language-model reader's chat model runs under the chain
too. ``stream``/``astream`` yield ``AnswerChunk``s as the answer is produced. See docs/API.md.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForChainRun, CallbackManagerForChainRun, Callbacks
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import (
    ensure_config, get_callback_manager_for_config, patch_config, run_in_executor,
)
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel

from qa.answer import Answer, AnswerChunk, Citation
from qa.answerability import AnswerabilityModel, unknown_names
from qa.compose import Policy
from qa.config import Settings
from qa.conflicts import disputed_blocks, load_conflicts
from qa.corpus import LANGUAGES
from qa.digest import SECTION_VOTERS
from qa.embeddings import get_embedder
from qa.index import IndexStore, corpus_source
from qa.inputs import Asked, QAInput, ToolInput, parse_input
from qa.manifest import Manifest, load_manifest
from qa.polarity import evidence_lead
from qa.premise import correction
from qa.query import Query, analyse, with_aliases, without_amounts, without_terms
from qa.ranker import UnitRanker
from qa.readers import get_reader
from qa.readers.base import Draft, ReadRequest
from qa.readers.extractive import ExtractiveReader
from qa.retriever import Hit, build_retriever, hits_of
from qa.terms import is_known_content
from qa.text import name_tokens, tokens
from qa.ubiquity import beyond_setting
from qa.variants import aliases, respell

log = logging.getLogger("qa.chain")

# what the chain takes: a question, or a dict (or QAInput) with "question" and "history"
QAInputLike = str | dict[str, Any] | QAInput
TOOL_DESCRIPTION = ("Answers a question (Japanese or English) from the indexed documents, with numbered "
                    "citations; returns the answer JSON.")



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


def understand(question: str, history: list[dict[str, Any]], store: IndexStore, max_chars: int,
               manifest: Manifest) -> Query:
    """The question analysed as the documents spell things: near-miss spellings of their names read as
    theirs, and the acronyms they define searched and covered in both forms. The document it names, if
    any, is where to look, and the words naming it are no terms a passage must hold. A question that names
    nothing beyond the documents' setting and words training shows to be weak content ("Which Japanese
    companies are involved?") is read as the next turn of the conversation first."""
    query = analyse(question, history, max_chars)
    respelled = respell(query.text, store)
    if respelled != query.text:
        query = _same_language(analyse(respelled, history, 2 * max_chars), query)
    readings = (query, query.alternative) if query.alternative else (query,)  # remarks and the earlier turn too
    naming = manifest.reference_terms(" ".join(f"{q.text} {q.history_question}" for q in readings))
    query = replace(without_terms(query, naming), document=manifest.named_in(query.asked))
    names = name_tokens(query.asked)
    named = beyond_setting({t for t in query.focus_tokens if is_known_content(t) or t in names}, store)
    if query.alternative is not None and not query.continues and not named:
        query = replace(query.alternative, refers_back=True, alternative=replace(query, alternative=None))
    return with_aliases(query, aliases(query.asked, store))


def _same_language(rewritten: Query, original: Query) -> Query:
    """A respelled reading of a question, still shown as asked and answered in the language it was asked in."""
    alternative = rewritten.alternative and _same_language(rewritten.alternative, original)
    return replace(rewritten, text=original.text, lang=original.lang, alternative=alternative)


@dataclass
class _Prepared:
    """A question understood, retrieved and drafted extractively: what every reader starts from."""

    request: ReadRequest
    timings: dict[str, float]
    started: float


class QAChain(Runnable[QAInputLike, Answer]):
    """Retrieve, compose (extractively, or with an optional chat model), cite, note conflicts.

    Input: a question string, or ``{"question": str, "history": [message-like, ...]}`` (``QAInput``).
    ``invoke`` returns an ``Answer``; ``stream`` yields ``AnswerChunk``s, the last one with the ``Answer``.
    """

    def __init__(self, settings: Settings | None = None, llm: Any = None) -> None:
        self.settings = settings or Settings()
        self.embedder = get_embedder(self.settings.embedder)
        self.retriever = build_retriever(k=self.settings.top_k, settings=self.settings, embeddings=self.embedder)
        self.index = self.retriever.index
        self.manifest = load_manifest(corpus_source(self.settings))  # the index's copy once the corpus is gone
        self.conflicts = load_conflicts(corpus_source(self.settings), self.manifest)
        self.extractive = ExtractiveReader(Policy(AnswerabilityModel.load(), self.manifest.primary.id,
                                                  UnitRanker.load(), disputed_blocks(self.conflicts)))
        self.reader = get_reader(self.settings, llm)

    # -- Runnable

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        return QAInput

    def invoke(self, input: QAInputLike, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        """The answer to ``input``, as one chain run under ``config`` (``kwargs`` are not used)."""
        return self._call_with_config(self._invoke, input, config)

    # Streams yield AnswerChunks, not Answers (their sum carries the Answer): hence the ignores below.

    def stream(self, input: QAInputLike, config: RunnableConfig | None = None,  # type: ignore[override]
               **kwargs: Any | None) -> Iterator[AnswerChunk]:
        """The answer as it is produced: text pieces (``AnswerChunk.text``), then one chunk with the complete
        ``Answer``, which is authoritative (see ``AnswerChunk``)."""
        chunks = self._transform_stream_with_config(iter([input]), self._transform, config)  # type: ignore[arg-type]
        yield from chunks  # type: ignore[misc]

    async def astream(self, input: QAInputLike, config: RunnableConfig | None = None,  # type: ignore[override]
                      **kwargs: Any | None) -> AsyncIterator[AnswerChunk]:
        """``stream`` for asyncio: the same chunks, produced in a worker thread."""

        async def one() -> AsyncIterator[QAInputLike]:
            yield input

        chunks = self._atransform_stream_with_config(one(), self._atransform, config)  # type: ignore[arg-type]
        async for chunk in chunks:
            yield chunk  # type: ignore[misc]

    def as_tool(self, args_schema: type[BaseModel] | None = None, *, name: str | None = None,
                description: str | None = None, arg_types: dict[str, type] | None = None) -> BaseTool:
        """A tool taking ``question`` and an optional ``history`` (``ToolInput``, or ``args_schema``) and
        returning the answer JSON (``Answer.to_dict()``); the tool's callbacks reach the chain's run."""
        if arg_types is not None:
            raise ValueError("QAChain.as_tool takes its arguments from a schema (ToolInput); arg_types is not used")

        def answer(callbacks: Callbacks = None, **kwargs: Any) -> dict[str, Any]:
            return self.invoke(kwargs, {"callbacks": callbacks}).to_dict()

        async def aanswer(callbacks: Callbacks = None, **kwargs: Any) -> dict[str, Any]:
            return (await self.ainvoke(kwargs, {"callbacks": callbacks})).to_dict()

        return StructuredTool.from_function(answer, coroutine=aanswer, name=name or "answer_question",
                                            description=description or TOOL_DESCRIPTION,
                                            args_schema=args_schema or ToolInput)

    def read_request(self, input: QAInputLike, config: RunnableConfig | None = None) -> ReadRequest:
        """What a reader is given for ``input``: the understood question, its passages and the extractive
        draft (for timing or comparing readers on the same request); a chain run of its own, named
        ``read_request`` unless the config names it, with the retriever's run as its child."""
        run_config = ensure_config(config)
        manager = get_callback_manager_for_config(run_config)
        run = manager.on_chain_start(None, input if isinstance(input, dict) else {"input": input},
                                     name=run_config.get("run_name") or "read_request",
                                     run_id=run_config.pop("run_id", None))
        try:
            request = self._prepare(parse_input(input), patch_config(run_config, callbacks=run.get_child())).request
        except BaseException as err:
            run.on_chain_error(err)
            raise
        run.on_chain_end({"passages": [hit.key for hit in request.hits], "abstained": request.baseline.abstained})
        return request

    def _invoke(self, input: QAInputLike, run_manager: CallbackManagerForChainRun, config: RunnableConfig) -> Answer:
        prepared = self._prepare(parse_input(input), config)
        if self.reader is None:
            return self._finish(prepared, prepared.request.baseline)[0]
        clock = time.perf_counter()
        draft = self.reader.read(prepared.request, config)
        prepared.timings["read"] = (time.perf_counter() - clock) * 1000
        return self._finish(prepared, draft)[0]

    def _transform(self, inputs: Iterator[QAInputLike], run_manager: CallbackManagerForChainRun,
                   config: RunnableConfig) -> Iterator[AnswerChunk]:
        for input in inputs:
            yield from self._chunks(parse_input(input), config)

    async def _atransform(self, inputs: AsyncIterator[QAInputLike], run_manager: AsyncCallbackManagerForChainRun,
                          config: RunnableConfig) -> AsyncIterator[AnswerChunk]:
        async for input in inputs:
            chunks = self._chunks(parse_input(input), config)
            while (chunk := await run_in_executor(config, next, chunks, None)) is not None:
                yield chunk

    def _chunks(self, asked: Asked, config: RunnableConfig) -> Iterator[AnswerChunk]:
        """Text pieces, then the Answer: a language-model reader's text as it writes it, else (the extractive
        reader, or a reader that wrote nothing) the answer's rendered sentences."""
        prepared = self._prepare(asked, config)
        draft, streamed = prepared.request.baseline, False
        if self.reader is not None:
            clock = time.perf_counter()
            for item in self.reader.stream(prepared.request, config):
                if isinstance(item, Draft):
                    draft = item
                elif item:
                    streamed = True
                    yield AnswerChunk(text=item)
            prepared.timings["read"] = (time.perf_counter() - clock) * 1000
        answer, sentences = self._finish(prepared, draft)
        if not streamed:
            for sentence in sentences:
                yield AnswerChunk(text=sentence)
        yield AnswerChunk(answer=answer)

    # -- the pipeline

    def _prepare(self, asked: Asked, config: RunnableConfig) -> _Prepared:
        """Understand the question, retrieve (child retriever runs) and draft the extractive answer."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        store = self.index.get()
        query = understand(asked.question, asked.history, store, self.settings.max_question_chars, self.manifest)
        draft, hits = self._draft(query, store, asked.exclude_faq, timings, config)
        if draft.abstained and query.alternative is not None:  # read as a follow-up after all
            log.debug("no answer to %r alone: read as a follow-up", query.text)
            query = query.alternative
            draft, hits = self._draft(query, store, asked.exclude_faq, timings, config)
        if draft.abstained and not unknown_names(query, store) and (plain := without_amounts(query)) is not None:
            plain_draft, plain_hits = self._draft(plain, store, asked.exclude_faq, timings, config)
            said = " ".join(s.text for s in plain_draft.sentences)
            named = name_tokens(query.asked) & set(plain.focus_tokens)
            if not plain_draft.abstained and not plain_draft.brief and named <= set(tokens(said)) \
                    and correction(query.asking, said, said, query.lang):
                log.debug("no answer to %r with its amounts: answered with the amounts corrected", query.text)
                query, draft, hits = plain, plain_draft, plain_hits
        return _Prepared(ReadRequest(query, hits, store, draft), timings, started)

    def _finish(self, prepared: _Prepared, draft: Draft) -> tuple[Answer, list[str]]:
        """The rendered Answer, with its timings, and its text as rendered sentences."""
        clock = time.perf_counter()
        request, timings = prepared.request, prepared.timings
        answer, sentences = self._render(request.query, draft, request.hits, request.store)
        timings["compose"] = timings.get("compose", 0.0) + (time.perf_counter() - clock) * 1000
        timings["total"] = (time.perf_counter() - prepared.started) * 1000
        answer.timings = timings
        log.debug("%s answer in %.0f ms (%s)", answer.reader, timings["total"],
                  ", ".join(f"{stage} {ms:.1f}" for stage, ms in timings.items() if stage != "total"))
        return answer, sentences

    def _draft(self, query: Query, store: IndexStore, exclude_faq: bool, timings: dict[str, float],
               config: RunnableConfig) -> tuple[Draft, list[Hit]]:
        """Retrieve for one reading of the question (a child retriever run) and draft its extractive answer."""
        clock = time.perf_counter()
        vector = self.retriever.query_vector(query.search_text)
        focus_vector = self.retriever.query_vector(query.asked) if query.history_question else vector
        timings["embed"] = timings.get("embed", 0.0) + (time.perf_counter() - clock) * 1000
        documents = self.retriever.invoke(query.search_text, config, k=2 * SECTION_VOTERS, query_vector=vector,
                                          store=store, exclude_faq=exclude_faq, timings=timings)
        ranked = hits_of(documents, store)  # broad questions vote with more than the top passages
        hits = ranked[:self.settings.top_k]
        clock = time.perf_counter()
        draft = self.extractive.draft(query, vector, focus_vector, ranked, hits, store)
        timings["compose"] = timings.get("compose", 0.0) + (time.perf_counter() - clock) * 1000
        return draft, hits

    def _render(self, query: Query, draft: Draft, hits: list[Hit], store: IndexStore) -> tuple[Answer, list[str]]:
        """The Answer, and its text as rendered sentences (each with its markers; after the first, with the
        space that joins it)."""
        lang = query.lang
        if draft.abstained:
            text = self.manifest.abstain_text(lang)
            return Answer(query.text, lang, text, True, reader=draft.reader), [text]
        # "… $30 billion …?" when the documents say $20 billion; else yes or no, when the evidence settles it
        if lead := evidence_lead(query, draft, store):
            first = draft.sentences[0]
            joined = lead + (first.text if lang == "ja" else " " + first.text[:1].upper() + first.text[1:])
            draft = replace(draft, sentences=[replace(first, text=joined), *draft.sentences[1:]])
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        sentences: list[str] = []
        for sentence in draft.sentences:
            for index in sentence.chunks:
                if index not in numbers:
                    numbers[index] = len(numbers) + 1
                    citations.append(self._citation(numbers[index], index, store))
            markers = "".join(f"[{numbers[i]}]" for i in sentence.chunks)
            attributed = sentence.attributed or self.manifest.is_primary(sentence.doc)
            attribution = "" if attributed else self.manifest.get(sentence.doc).attribution(lang)
            sentences.append(_sentence(sentence.text, lang, markers, attribution, store.proper_names))
        space = "" if lang == "ja" else " "
        sentences = sentences[:1] + [space + s for s in sentences[1:]]
        cited_blocks = {store.chunks[i].block_key for i in numbers}
        retrieved = {h.key for h in hits} | cited_blocks  # a section in brief cites beyond the top passages
        conflicts = [note.conflict(lang) for note in self.conflicts if note.applies(cited_blocks, retrieved)]
        return Answer(query.text, lang, "".join(sentences), False, citations, conflicts, reader=draft.reader), sentences

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
