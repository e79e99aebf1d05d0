"""The persisted bilingual index: Chroma and exact vectors (dense), BM25 (lexical), swapped atomically.

Layout of ``index/``::

    CURRENT              name of the live version directory
    ID                   this index's id (tags its collections on a Chroma server)
    LOCK                 held while a build runs, so builds never overlap
    v-<stamp>/           one complete version
        manifest.json    embedder, dimension, chunk hashes, counts, store ("embedded" or "server")
        chunks.json      every chunk with its metadata, answer units, (Japanese) romanised readings and,
                         for the commentary's units, the primary passage that holds their facts
        vectors.npy      the chunk embeddings, in chunk order (reuse, and search from memory)
        units.npy        embeddings of the answer units (for answer composition)
        lexical-ja/ …    BM25 per language (bm25s); Japanese also by romanised readings
        chroma/          the Chroma collections, one per language (unless QA_CHROMA_URL names a server)
        corpus/          the corpus manifest and conflicts as built, read when the corpus is gone

With a Chroma server the version's collections are ``qa-<version>-<lang>`` on the server and the
rest stays in the version directory.

The package by concept: ``versions`` (the pointer, the lock, checks, pruning), ``build``,
``store`` (one loaded version and its search), ``live`` (the swap a serving process follows),
``chroma`` (the adapter) and ``errors``.
"""

from __future__ import annotations

from qa.index.build import BuildReport, build_index
from qa.index.chroma import chroma_client, collection_name, redact_url, store_kind
from qa.index.errors import ChromaUnavailableError, IndexMissingError, StoreMismatchError
from qa.index.live import LiveIndex
from qa.index.store import IndexStore, open_index
from qa.index.versions import FORMAT_VERSION, build_needed, corpus_source, current_version, read_manifest

__all__ = [
    "FORMAT_VERSION", "BuildReport", "ChromaUnavailableError", "IndexMissingError", "IndexStore", "LiveIndex",
    "StoreMismatchError", "build_index", "build_needed", "chroma_client", "collection_name", "corpus_source", "current_version",
    "open_index", "read_manifest", "redact_url", "store_kind",
]
