"""Hybrid retrieval: dense (Chroma) and lexical (BM25) in both languages, fused by block."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from qa.corpus import LANGUAGES
from qa.index import IndexStore, LiveIndex
from qa.text import detect_language, romaji_query_tokens, tokens

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
    """A LangChain retriever over the live index; ``mode`` is hybrid, dense or lexical."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: LiveIndex
    embedder: Any
    mode: str = "hybrid"
    k: int = 5
    depth: int = 20

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
                query_vector = self.embedder.embed_query_array(text)
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
                if (exclude_faq and chunk.kind == "faq") or chunk.block_key in seen:
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

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        store = self.index.get()
        lang = detect_language(query)
        documents = []
        for hit in self.search(query, store=store):
            index = hit.chunks.get(lang, next(iter(hit.chunks.values())))
            chunk = store.chunks[index]
            documents.append(
                Document(
                    page_content=chunk.text, id=chunk.chunk_id,
                    metadata={**chunk.metadata(), "chunk_id": chunk.chunk_id, "score": hit.score},
                )
            )
        return documents
