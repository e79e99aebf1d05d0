"""Bilingual (Japanese/English) question answering over the 2025 US–Japan fact sheet."""

from __future__ import annotations

import threading
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from qa.answer import Answer, Citation, Conflict
from qa.query import QuestionError

if TYPE_CHECKING:
    from qa.chain import QAChain

try:
    __version__ = version("qa")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["Answer", "Citation", "Conflict", "QuestionError", "__version__", "ask", "build_chain"]

_default_chain: "QAChain | None" = None
_lock = threading.Lock()


def build_chain(settings: Any = None, llm: Any = None) -> "QAChain":
    """A LangChain Runnable: ``chain.invoke({"question": ..., "history": [...]}) -> Answer``."""
    from qa.chain import build_chain as _build

    return _build(settings, llm)


def ask(question: str, history: list[dict[str, Any]] | None = None) -> Answer:
    """Answer ``question`` (Japanese or English) with the default chain, loaded once per process."""
    global _default_chain
    with _lock:
        if _default_chain is None:
            _default_chain = build_chain()
    return _default_chain.invoke({"question": question, "history": history or []})
