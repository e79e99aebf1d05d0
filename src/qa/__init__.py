"""Bilingual (Japanese/English) question answering with citations over a corpus; see docs/API.md."""

from __future__ import annotations

import threading
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from qa.answer import Answer, AnswerChunk, Citation, Conflict
from qa.query import QuestionError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.messages import MessageLikeRepresentation

    from qa.chain import QAChain
    from qa.config import Settings
    from qa.retriever import HybridRetriever

try:
    __version__ = version("qa")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["Answer", "AnswerChunk", "Citation", "Conflict", "QuestionError", "__version__", "ask", "build_chain",
           "build_retriever"]

_default_chain: QAChain | None = None
_lock = threading.Lock()


def build_chain(settings: Settings | None = None, llm: Any = None) -> QAChain:
    """A LangChain Runnable: ``chain.invoke({"question": ..., "history": [...]}) -> Answer``; ``llm`` is an
    optional LangChain chat model that reads the retrieved passages."""
    from qa.chain import build_chain as _build

    return _build(settings, llm)


def build_retriever(k: int | None = None, settings: Settings | None = None,
                    embeddings: Embeddings | None = None, **kwargs: Any) -> HybridRetriever:
    """A LangChain retriever over the persisted index: ``retriever.invoke(query, k=3) -> list[Document]``."""
    from qa.retriever import build_retriever as _build

    return _build(k, settings, embeddings, **kwargs)


def ask(question: str, history: list[MessageLikeRepresentation] | None = None) -> Answer:
    """Answer ``question`` (Japanese or English) with the default chain, loaded once per process."""
    global _default_chain
    with _lock:
        if _default_chain is None:
            _default_chain = build_chain()
    return _default_chain.invoke({"question": question, "history": history or []})
