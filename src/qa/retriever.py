"""Hybrid retrieval: dense and lexical (BM25) in both languages, fused by block; a LangChain retriever.

``build_retriever()`` opens the persisted index (building it first when there is none) and returns a
``HybridRetriever``. ``invoke(query, k=…)`` gives ``Document``s: one per aligned block, in the query's
language where the block has it, with the chunk's metadata plus ``chunk_id``, the fused ``score``, the best
``dense`` cosine and the per-list ``ranks``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from qa.config import Settings
from qa.corpus import LANGUAGES
from qa.embeddings import get_embedder, query_vector
from qa.index import IndexStore, LiveIndex, build_index, build_needed
from qa.text import detect_language, romaji_query_tokens, tokens

log = logging.getLogger("qa.retriever")

RRF_K = 60


def _lap(timings: dict[str, float], stage: str, since: float) -> float:
    now = time.perf_counter()
    timings[stage] = timings.get(stage, 0.0) + (now - since) * 1000
    return now


@dataclass
class Hit:
    """One block (both language twins) with its fused score and per-list ranks."""

    key: str
    chunks: dict[str, int]
    score: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)
    dense: float = 0.0


class HybridRetriever(BaseRetriever):
    """A LangChain retriever over the live index.

    ``embedder`` is any LangChain ``Embeddings`` that gives the index's vectors (``embed_query``; its
    ``embed_query_array`` when it has one, which skips the list conversion). ``mode`` is ``hybrid``,
    ``dense`` or ``lexical``; ``k`` is how many blocks a call returns unless it passes its own ``k``;
    ``depth`` is how deep each single list is read before fusion.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: LiveIndex
    embedder: Embeddings
    mode: str = "hybrid"
    k: int = 5
    depth: int = 20

    def query_vector(self, text: str) -> np.ndarray:
        """``text`` embedded as a query (a 1-D float32 vector)."""
        return query_vector(self.embedder, text)

    def search(
        self,
        text: str,
        query_vector: np.ndarray | None = None,
        query_tokens: list[str] | None = None,
        langs: tuple[str, ...] = LANGUAGES,
        exclude_faq: bool = False,
        store: IndexStore | None = None,
        k: int | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[Hit]:
        """The best ``k`` blocks for ``text``, searched in ``langs``; stage times go to ``timings``."""
        timings = {} if timings is None else timings
        clock = time.perf_counter()
        store = store or self.index.get()
        depth = self.depth + (8 if exclude_faq else 0)
        lists: dict[str, list[tuple[int, float]]] = {}
        dense_scores: dict[str, float] = {}
        if self.mode in ("hybrid", "dense"):
            if query_vector is None:
                query_vector = self.query_vector(text)
                clock = _lap(timings, "embed", clock)
            for lang in langs:
                found = store.dense(query_vector, depth, lang)
                lists[f"dense-{lang}"] = found
                for i, score in found:
                    key = store.chunks[i].block_key
                    dense_scores[key] = max(dense_scores.get(key, -1.0), score)
            clock = _lap(timings, "dense", clock)
        if self.mode in ("hybrid", "lexical"):
            query_tokens = tokens(text) if query_tokens is None else query_tokens
            for lang in langs:
                # Japanese passages are also indexed by their romanised readings ("zeikan", "Tōhoku")
                extra = romaji_query_tokens(text) if lang == "ja" else []
                lists[f"lexical-{lang}"] = store.lexical_search(query_tokens + extra, depth, lang)
            clock = _lap(timings, "lexical", clock)
        hits: dict[str, Hit] = {}
        for name, found in lists.items():
            rank = 0
            seen: set[str] = set()
            for i, _score in found:
                chunk = store.chunks[i]
                if (exclude_faq and chunk.kind == "faq") or chunk.block_key in seen or (
                        chunk.foreign and store.twin(i) is not None):  # found in its own language's lists
                    continue
                seen.add(chunk.block_key)
                hit = hits.setdefault(chunk.block_key, Hit(chunk.block_key, store.blocks[chunk.block_key]))
                hit.ranks[name] = rank
                hit.score += 1.0 / (RRF_K + rank)
                rank += 1
        for hit in hits.values():
            hit.dense = dense_scores.get(hit.key, 0.0)
        ranked = sorted(hits.values(), key=lambda h: -h.score)
        _lap(timings, "fusion", clock)
        return ranked[: (k or self.k)]

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        query_vector: np.ndarray | None = None,
        exclude_faq: bool = False,
        store: IndexStore | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[Document]:
        """The best ``k`` blocks as Documents. The chain passes the vector it has already computed, the
        index version it answers from and its timings; a caller needs only ``query`` and maybe ``k``."""
        store = store or self.index.get()
        hits = self.search(query, query_vector=query_vector, exclude_faq=exclude_faq, store=store, k=k,
                           timings=timings)
        lang = detect_language(query)
        return [_document(hit, lang, store) for hit in hits]


def _document(hit: Hit, lang: str, store: IndexStore) -> Document:
    """A hit as a Document: its chunk in ``lang`` where the block has one."""
    chunk = store.chunks[hit.chunks.get(lang, next(iter(hit.chunks.values())))]
    metadata = {**chunk.metadata(), "chunk_id": chunk.chunk_id, "score": float(hit.score),
                "dense": float(hit.dense), "ranks": dict(hit.ranks)}
    return Document(page_content=chunk.text, id=chunk.chunk_id, metadata=metadata)


def hits_of(documents: list[Document], store: IndexStore) -> list[Hit]:
    """The hits that ``documents`` (from a ``HybridRetriever`` over ``store``) stand for."""
    return [Hit(d.metadata["block_key"], store.blocks[d.metadata["block_key"]], d.metadata["score"],
                dict(d.metadata["ranks"]), d.metadata["dense"]) for d in documents]


def open_live_index(settings: Settings) -> LiveIndex:
    """The live index of ``settings``, built first when there is none (or it is in an old format)."""
    if reason := build_needed(settings.index_dir):
        log.warning("%s: building it now.", reason)
        log.info("%s", build_index(settings).summary())
    index = LiveIndex(settings)
    index.get()  # fail early on a missing or mismatched index
    return index


def build_retriever(k: int | None = None, settings: Settings | None = None,
                    embeddings: Embeddings | None = None, **kwargs: Any) -> HybridRetriever:
    """A ``HybridRetriever`` over the persisted index of ``settings`` (built first if missing), returning
    ``k`` blocks per call (default ``settings.top_k``, ``QA_TOP_K``). ``embeddings`` defaults to the
    embedder the index was built with (``settings.embedder``); another must give the same vectors.
    ``kwargs`` set further fields (``mode``, ``depth``)."""
    settings = settings or Settings()
    return HybridRetriever(index=open_live_index(settings), embedder=embeddings or get_embedder(settings.embedder),
                           mode=kwargs.pop("mode", settings.retrieval), k=k or settings.top_k, **kwargs)


__all__ = ["Hit", "HybridRetriever", "build_retriever", "hits_of", "open_live_index"]
