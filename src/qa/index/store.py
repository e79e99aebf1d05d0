"""One loaded, read-only index version: its chunks, dense search (exact or Chroma HNSW) and BM25 search.

The search loops are module functions (``exact_nearest``, ``lexical_best``) so the benchmark times this
very code on synthetic corpora.
"""

from __future__ import annotations

import json
import logging
import math
import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.chunks import Chunk
from qa.config import Settings
from qa.corpus import LANGUAGES
from qa.embeddings import EmbedderError
from qa.index.chroma import chroma_client, collection_name, nearest, redact_url
from qa.index.errors import ChromaUnavailableError, IndexMissingError, is_connection_error, one_line
from qa.index.versions import FORMAT_VERSION, check_version, current_version, read_manifest
from qa.text import normalize, tokens

if TYPE_CHECKING:
    import bm25s
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)


def exact_nearest(vectors: np.ndarray, rows: np.ndarray, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` rows of ``vectors`` (unit length) nearest ``query_vector`` by cosine, as ``(rows[i], similarity)``."""
    if not len(rows):
        return []
    query = np.asarray(query_vector, dtype=np.float32).reshape(-1)
    query = query / (np.linalg.norm(query) or 1.0)
    scores = vectors @ query
    k = min(k, len(rows))
    top = np.argpartition(-scores, k - 1)[:k]
    order = top[np.argsort(-scores[top], kind="stable")]
    return [(int(rows[i]), float(scores[i])) for i in order]


def lexical_best(bm25: bm25s.BM25, rows: np.ndarray, query_tokens: list[str], k: int) -> list[tuple[int, float]]:
    """The best ``k`` documents of ``bm25`` for ``query_tokens`` with a positive score, as ``(rows[i], score)``."""
    if not query_tokens:
        return []
    scores = bm25.get_scores(query_tokens)
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top])]
    return [(int(rows[i]), float(scores[i])) for i in top if scores[i] > 0]


class IndexStore:
    """One loaded, read-only index version: chunks, dense and lexical search."""

    def __init__(self, settings: Settings, version_dir: Path) -> None:
        import bm25s

        self.settings = settings
        self.path = version_dir
        self.version = version_dir.name
        self.manifest = read_manifest(version_dir)
        if self.manifest.get("format") != FORMAT_VERSION:
            raise IndexMissingError(f"{version_dir}: index format {self.manifest.get('format')}, this qa reads "
                                    f"{FORMAT_VERSION}; rebuild it with `qa index`")
        if self.manifest.get("embedder") != settings.embedder:
            raise EmbedderError(
                f"{version_dir}: built with embedder {self.manifest.get('embedder')!r}, but the configured "
                f"embedder is {settings.embedder!r}; rebuild with `qa index` under the same QA_EMBEDDER, "
                "or point QA_INDEX_DIR at an index built with it"
            )
        check_version(settings, version_dir)
        records = json.loads((version_dir / "chunks.json").read_text(encoding="utf-8"))
        self.unit_rows: list[tuple[int, int]] = [tuple(r.pop("unit_rows")) for r in records]
        self.readings: list[tuple[str, ...]] = [tuple(r.pop("readings")) for r in records]
        self.support: list[tuple[str, ...]] = [tuple(r.pop("support")) for r in records]  # per unit: a chunk id or ""
        # per Japanese chunk: (katakana name, the Latin name its English twin writes)
        self.transliterations: list[tuple[tuple[str, str], ...]] = [
            tuple((kana, latin) for kana, latin in r.pop("transliterations")) for r in records]
        # per English chunk: (name, its katakana rendering, folded)
        self.renderings: list[tuple[tuple[str, str], ...]] = [
            tuple((name, kana) for name, kana in r.pop("renderings")) for r in records]
        for r in records:
            r.pop("hash")
            r["units"] = tuple(r["units"])
        self.chunks = [Chunk(**r) for r in records]
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.unit_vectors = np.load(version_dir / "units.npy", allow_pickle=False)
        self.lexical: dict[str, tuple[bm25s.BM25, np.ndarray]] = {}
        self.idf: dict[str, dict[str, float]] = {}
        self.max_idf: dict[str, float] = {}
        self.blocks: dict[str, dict[str, int]] = {}
        for i, chunk in enumerate(self.chunks):
            self.blocks.setdefault(chunk.block_key, {})[chunk.lang] = i
        for lang in LANGUAGES:
            folder = version_dir / f"lexical-{lang}"
            if folder.is_dir():
                rows = np.asarray(json.loads((folder / "rows.json").read_text()), dtype=np.int64)
                self.lexical[lang] = (bm25s.BM25.load(str(folder), show_progress=False), rows)
                stats = json.loads((folder / "df.json").read_text(encoding="utf-8"))
                self.idf[lang] = {t: math.log(1 + stats["n"] / df) for t, df in stats["df"].items()}
                self.max_idf[lang] = math.log(1 + stats["n"])
        vectors = np.load(version_dir / "vectors.npy", allow_pickle=False)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms == 0, 1.0, norms)
        langs = np.asarray([c.lang for c in self.chunks])
        self._rows = {lang: np.flatnonzero(langs == lang) for lang in LANGUAGES}
        self._lang_vectors = {lang: np.ascontiguousarray(vectors[rows]) for lang, rows in self._rows.items()}
        self.collections: dict[str, Collection] = {}  # opened only for languages too large to search exactly
        large = [lang for lang, rows in self._rows.items() if len(rows) > settings.exact_search_max]
        if large:
            client = chroma_client(settings, version_dir)
            for lang in large:
                collection = client.get_collection(collection_name(self.version, lang))
                if (collection.metadata or {}).get("embedder") != settings.embedder:
                    raise EmbedderError(f"collection {collection.name} was not built with {settings.embedder!r}")
                # load the vector index now: damage shows here, not in the middle of an answer
                nearest(collection, self._lang_vectors[lang][0], 1)
                self.collections[lang] = collection
        self.from_memory = False  # set once Chroma has failed and dense search runs on the vectors above
        self._token_sets: dict[int, frozenset[str]] = {}
        self._texts: dict[int, str] = {}
        self._unit_tokens: dict[int, tuple[frozenset[str], ...]] = {}
        self._heading_tokens: dict[str, frozenset[str]] = {}
        self._doc_chunks: dict[tuple[str, str], tuple[int, ...]] = {}

    def dense(self, query_vector: np.ndarray, k: int, lang: str) -> list[tuple[int, float]]:
        """Chunk indices and cosine similarities of the ``k`` nearest chunks in ``lang``.

        A language of up to ``Settings.exact_search_max`` chunks is searched exactly in memory: a scan
        of its vectors takes well under a millisecond there, and needs neither chromadb's import nor
        its HNSW index loaded. Larger ones ask Chroma; if Chroma fails (its files removed, the server
        gone), the search falls back to the chunk vectors in memory, so a serving process outlives
        the loss of its index.
        """
        if lang not in self.collections:
            return self._dense_in_memory(query_vector, k, lang)
        if not self.from_memory:
            if self.settings.chroma_url or self.path.is_dir():
                try:
                    found = nearest(self.collections[lang], query_vector, min(k, len(self._rows[lang])))
                    return [(self.by_id[cid], similarity) for cid, similarity in found]
                except Exception as err:  # noqa: BLE001 - any failure: the vectors in memory still answer
                    log.warning("Chroma failed for index %s (%s: %s); answering from the vectors in memory until "
                                "the index is rebuilt", self.version, type(err).__name__, one_line(err))
            else:
                log.warning("index %s has gone; answering from the vectors in memory until the index is rebuilt "
                            "(`qa index`)", self.path)
            self.from_memory = True
        return self._dense_in_memory(query_vector, k, lang)

    def _dense_in_memory(self, query_vector: np.ndarray, k: int, lang: str) -> list[tuple[int, float]]:
        rows = self._rows.get(lang)
        if rows is None:
            return []
        return exact_nearest(self._lang_vectors[lang], rows, query_vector, k)

    def lexical_search(self, query_tokens: list[str], k: int, lang: str) -> list[tuple[int, float]]:
        """Chunk indices and BM25 scores of the best ``k`` chunks in ``lang``."""
        if lang not in self.lexical:
            return []
        bm25, rows = self.lexical[lang]
        return lexical_best(bm25, rows, query_tokens, k)

    def units(self, chunk_index: int) -> tuple[tuple[str, ...], np.ndarray]:
        """A chunk's answer units and their embeddings."""
        start, stop = self.unit_rows[chunk_index]
        return self.chunks[chunk_index].units, self.unit_vectors[start:stop]

    def twin(self, chunk_index: int) -> int | None:
        """The index of the chunk's twin in the other language, if it has one."""
        twin_id = self.chunks[chunk_index].twin_id
        return self.by_id.get(twin_id) if twin_id else None

    def token_set(self, chunk_index: int) -> frozenset[str]:
        """Lexical tokens of a chunk with its heading path (cached)."""
        cached = self._token_sets.get(chunk_index)
        if cached is None:
            chunk = self.chunks[chunk_index]
            cached = self._token_sets[chunk_index] = frozenset(tokens(chunk.section + " " + chunk.text)) \
                | frozenset(self.readings[chunk_index])
        return cached

    def unit_token_sets(self, chunk_index: int) -> tuple[frozenset[str], ...]:
        """Lexical tokens of each answer unit of a chunk (cached)."""
        cached = self._unit_tokens.get(chunk_index)
        if cached is None:
            cached = self._unit_tokens[chunk_index] = tuple(frozenset(tokens(u)) for u in self.chunks[chunk_index].units)
        return cached

    def doc_chunks(self, doc: str, lang: str) -> tuple[int, ...]:
        """Indices of one document's chunks in one language, in reading order (cached)."""
        cached = self._doc_chunks.get((doc, lang))
        if cached is None:
            cached = self._doc_chunks[(doc, lang)] = tuple(
                sorted((i for i, c in enumerate(self.chunks) if c.doc == doc and c.lang == lang),
                       key=lambda i: (self.chunks[i].position, self.chunks[i].part)))
        return cached

    def heading_tokens(self, heading: str) -> frozenset[str]:
        """Lexical tokens of a heading or heading path (cached)."""
        cached = self._heading_tokens.get(heading)
        if cached is None:
            cached = self._heading_tokens[heading] = frozenset(tokens(heading))
        return cached

    def search_text(self, chunk_index: int) -> str:
        """The chunk's heading path and text, normalised for matching (cached)."""
        cached = self._texts.get(chunk_index)
        if cached is None:
            chunk = self.chunks[chunk_index]
            cached = self._texts[chunk_index] = normalize(chunk.section + " " + chunk.text)
        return cached

    @cached_property
    def proper_names(self) -> frozenset[str]:
        """English words the documents capitalise inside sentences and never write in lower case ("Japan")."""
        texts = [c.text for c in self.chunks if c.lang == "en"]
        lower = {w for text in texts for w in re.findall(r"\b[a-z][a-z'-]*\b", text)}
        inside = {w for text in texts for w in re.findall(r"(?<=[a-z,;] )[A-Z][a-z'-]*\b", text)}
        return frozenset(w for w in inside if w.lower() not in lower)

    def idf_of(self, token: str, lang: str) -> float:
        """Inverse document frequency; a term the corpus never uses weighs the most."""
        return self.idf.get(lang, {}).get(token, self.max_idf.get(lang, 1.0) + 1.0)


def open_index(settings: Settings) -> IndexStore:
    """Load the live index version, or explain how to build one."""
    live = current_version(settings.index_dir)
    if live is None:
        raise IndexMissingError(f"{settings.index_dir}: no index found; build it with `qa index`")
    return open_version(settings, live)


def open_version(settings: Settings, version_dir: Path) -> IndexStore:
    """Load ``version_dir``; any damage becomes an ``IndexMissingError`` that says to rebuild."""
    try:
        return IndexStore(settings, version_dir)
    except (EmbedderError, IndexMissingError):
        raise
    except Exception as err:  # noqa: BLE001 - any damage to the files means: rebuild
        if settings.chroma_url and is_connection_error(err):
            raise ChromaUnavailableError(
                f"lost the Chroma server at {redact_url(settings.chroma_url)} ({type(err).__name__}); "
                "check that it runs, or unset QA_CHROMA_URL"
            ) from None
        raise IndexMissingError(
            f"{version_dir}: the index is damaged ({type(err).__name__}: {one_line(err)}); "
            "rebuild it with `qa index`"
        ) from None

