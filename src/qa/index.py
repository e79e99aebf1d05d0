"""The persisted bilingual index: Chroma (dense) and BM25 (lexical), swapped atomically.

Layout of ``index/``::

    CURRENT              name of the live version directory
    v-<stamp>/           one complete, immutable version
        manifest.json    embedder, dimension, chunk hashes, counts
        chunks.json      every chunk with its metadata and answer units
        units.npy        embeddings of the answer units (for answer composition)
        lexical-ja/ …    BM25 per language (bm25s)
        chroma/          the Chroma collection (unless QA_CHROMA_URL names a server)

A build writes a new version beside the live one and then replaces ``CURRENT``
in one rename, so readers never see a half-written index.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from qa.chunks import Chunk, make_chunks
from qa.config import Settings
from qa.corpus import LANGUAGES, read_corpus
from qa.embeddings import EmbedderError, get_embedder
from qa.text import normalize, tokens

FORMAT_VERSION = 5  # bump when chunking, units or lexical tokens change
COLLECTION_PREFIX = "qa-"
_BATCH = 16


class IndexMissingError(RuntimeError):
    """No usable index; the message says how to build one."""


@dataclass
class BuildReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0
    chunks: int = 0
    seconds: float = 0.0
    version: str = ""

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, unchanged {self.unchanged} "
            f"({self.chunks} chunks, {self.embedded} texts embedded) in {self.seconds:.1f} s"
        )


# ---------------------------------------------------------------- Chroma access


def chroma_client(settings: Settings, version_dir: Path):
    """A Chroma client: the server at QA_CHROMA_URL, else the version's own directory."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1", port=url.port or 8000, ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    return chromadb.PersistentClient(path=str(version_dir / "chroma"), settings=chroma_settings)


def collection_name(version: str) -> str:
    return f"{COLLECTION_PREFIX}{version}"


# ---------------------------------------------------------------- versions


def current_version(index_dir: Path) -> Path | None:
    """The live version directory, or None when there is none."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    path = index_dir / name
    return path if name and (path / "manifest.json").is_file() else None


def read_manifest(version_dir: Path) -> dict:
    return json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))


def _publish(index_dir: Path, version: str) -> None:
    pointer = index_dir / "CURRENT.tmp"
    pointer.write_text(version + "\n", encoding="utf-8")
    os.replace(pointer, index_dir / "CURRENT")


def _prune(settings: Settings, keep: set[str]) -> None:
    """Remove versions other than ``keep`` (and unfinished ones)."""
    for path in settings.index_dir.glob("v-*"):
        if path.name not in keep and path.is_dir():
            if settings.chroma_url and not path.name.endswith(".tmp"):
                try:
                    chroma_client(settings, path).delete_collection(collection_name(path.name))
                except Exception:  # noqa: BLE001 - already gone on the server
                    pass
            shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- building


def _previous_vectors(settings: Settings, version_dir: Path | None, embedder_name: str) -> dict[str, np.ndarray]:
    """Embeddings of the live version by the text embedded, for reuse (same embedder only)."""
    if version_dir is None:
        return {}
    try:
        if read_manifest(version_dir).get("embedder") != embedder_name:
            return {}
        records = json.loads((version_dir / "chunks.json").read_text(encoding="utf-8"))
        unit_vectors = np.load(version_dir / "units.npy")
        got = chroma_client(settings, version_dir).get_collection(collection_name(version_dir.name)).get(
            include=["embeddings"]
        )
    except Exception:  # noqa: BLE001 - an unreadable old version just means no reuse
        return {}
    by_id = dict(zip(got["ids"], got["embeddings"]))
    cache: dict[str, np.ndarray] = {}
    for record in records:
        chunk = Chunk(**{k: v for k, v in record.items() if k not in ("hash", "unit_rows")})
        if chunk.chunk_id in by_id:
            cache[chunk.embed_text] = np.asarray(by_id[chunk.chunk_id], dtype=np.float32)
        start, _stop = record["unit_rows"]
        for offset, unit in enumerate(record["units"]):
            cache[unit] = unit_vectors[start + offset]
    return cache


def _embed(embedder, texts: list[str], progress) -> np.ndarray:
    rows = []
    for start in range(0, len(texts), _BATCH):
        batch = texts[start : start + _BATCH]
        rows.append(embedder.embed_passages(batch))
        progress.update(len(batch))
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def build_index(settings: Settings | None = None, show_progress: bool = True) -> BuildReport:
    """Build or refresh the index; re-embed only chunks whose text changed."""
    from tqdm import tqdm

    settings = settings or Settings()
    started = time.perf_counter()
    chunks = make_chunks(read_corpus(settings.corpus_dir))  # fails before anything is written
    embedder = get_embedder(settings.embedder)
    live = current_version(settings.index_dir)
    old_hashes: dict[str, str] = read_manifest(live)["hashes"] if live else {}
    new_hashes = {c.chunk_id: c.content_hash for c in chunks}
    report = BuildReport(
        added=sum(1 for cid in new_hashes if cid not in old_hashes),
        updated=sum(1 for cid, h in new_hashes.items() if cid in old_hashes and old_hashes[cid] != h),
        removed=sum(1 for cid in old_hashes if cid not in new_hashes),
        unchanged=sum(1 for cid, h in new_hashes.items() if old_hashes.get(cid) == h),
        chunks=len(chunks),
    )
    live_manifest = read_manifest(live) if live else {}
    if live and old_hashes == new_hashes and live_manifest.get("embedder") == embedder.name and live_manifest.get("format") == FORMAT_VERSION:
        report.version, report.seconds = live.name, time.perf_counter() - started
        return report

    cache = _previous_vectors(settings, live, embedder.name)
    todo = list(dict.fromkeys(t for c in chunks for t in (c.embed_text, *c.units) if t not in cache))
    with tqdm(total=len(todo), desc="embedding", unit="text", disable=not show_progress) as bar:
        cache.update(zip(todo, _embed(embedder, todo, bar)))
    report.embedded = len(todo)

    version = "v-" + time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.time_ns() % 10**6:06d}"
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    staging = settings.index_dir / (version + ".tmp")
    try:
        _write_version(settings, staging, version, chunks, cache, embedder.name)
        final = settings.index_dir / version
        os.replace(staging, final)
        _publish(settings.index_dir, version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if settings.chroma_url:
            try:
                chroma_client(settings, staging).delete_collection(collection_name(version))
            except Exception:  # noqa: BLE001
                pass
        raise
    _prune(settings, keep={version, live.name} if live else {version})
    report.version, report.seconds = version, time.perf_counter() - started
    return report


def _write_version(
    settings: Settings, path: Path, version: str, chunks: list[Chunk], vectors: dict[str, np.ndarray], embedder: str
) -> None:
    import bm25s

    path.mkdir(parents=True)
    dim = int(len(vectors[chunks[0].embed_text]))
    unit_rows: list[np.ndarray] = []
    records = []
    offset = 0
    for chunk in chunks:
        units = np.asarray([vectors[u] for u in chunk.units], dtype=np.float32).reshape(-1, dim)
        unit_rows.append(units)
        records.append({**asdict(chunk), "hash": chunk.content_hash, "unit_rows": [offset, offset + len(units)]})
        offset += len(units)
    np.save(path / "units.npy", np.vstack(unit_rows))
    (path / "chunks.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")

    for lang in LANGUAGES:
        rows = [i for i, c in enumerate(chunks) if c.lang == lang]
        if not rows:
            continue
        corpus_tokens = [tokens(chunks[i].section + " " + chunks[i].text) or [""] for i in rows]
        bm25 = bm25s.BM25()
        bm25.index(corpus_tokens, show_progress=False)
        folder = path / f"lexical-{lang}"
        bm25.save(str(folder))
        (folder / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
        df = Counter(t for toks in corpus_tokens for t in set(toks))
        (folder / "df.json").write_text(json.dumps({"n": len(rows), "df": df}, ensure_ascii=False), encoding="utf-8")

    client = chroma_client(settings, path)
    collection = client.create_collection(
        collection_name(version),
        configuration={"hnsw": {"space": "cosine"}},
        metadata={"embedder": embedder, "dim": dim},
        embedding_function=None,
    )
    for start in range(0, len(chunks), 1000):
        batch = chunks[start : start + 1000]
        collection.add(
            ids=[c.chunk_id for c in batch],
            embeddings=np.asarray([vectors[c.embed_text] for c in batch], dtype=np.float32),
            documents=[c.text for c in batch],
            metadatas=[c.metadata() for c in batch],
        )
    manifest = {
        "format": FORMAT_VERSION, "version": version, "embedder": embedder, "dim": dim,
        "chunks": len(chunks), "hashes": {c.chunk_id: c.content_hash for c in chunks},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "counts": _counts(chunks),
    }
    (path / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def _counts(chunks: list[Chunk]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in chunks:
        counts[f"{c.doc}.{c.lang}"] = counts.get(f"{c.doc}.{c.lang}", 0) + 1
    return counts


# ---------------------------------------------------------------- reading


class IndexStore:
    """One loaded, read-only index version: chunks, dense and lexical search."""

    def __init__(self, settings: Settings, version_dir: Path) -> None:
        import bm25s

        self.settings = settings
        self.path = version_dir
        self.version = version_dir.name
        self.manifest = read_manifest(version_dir)
        if self.manifest.get("embedder") != settings.embedder:
            raise EmbedderError(
                f"{version_dir}: built with embedder {self.manifest.get('embedder')!r}, but the configured "
                f"embedder is {settings.embedder!r}; rebuild with `qa index` under the same QA_EMBEDDER, "
                "or point QA_INDEX_DIR at an index built with it"
            )
        records = json.loads((version_dir / "chunks.json").read_text(encoding="utf-8"))
        self.unit_rows = [tuple(r.pop("unit_rows")) for r in records]
        for r in records:
            r.pop("hash")
            r["units"] = tuple(r["units"])
        self.chunks = [Chunk(**r) for r in records]
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.unit_vectors = np.load(version_dir / "units.npy")
        self.lexical: dict[str, tuple] = {}
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
        collection = chroma_client(settings, version_dir).get_collection(collection_name(self.version))
        if (collection.metadata or {}).get("embedder") != settings.embedder:
            raise EmbedderError(f"collection {collection.name} was not built with {settings.embedder!r}")
        self.collection = collection
        self._token_sets: dict[int, frozenset[str]] = {}
        self._texts: dict[int, str] = {}

    def dense(self, query_vector: np.ndarray, k: int, lang: str | None = None) -> list[tuple[int, float]]:
        """Chunk indices and cosine similarities of the ``k`` nearest chunks."""
        got = self.collection.query(
            query_embeddings=[np.asarray(query_vector, dtype=np.float32)],
            n_results=min(k, len(self.chunks)),
            where={"lang": lang} if lang else None,
            include=["distances"],
        )
        return [(self.by_id[cid], 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0])]

    def lexical_search(self, query_tokens: list[str], k: int, lang: str) -> list[tuple[int, float]]:
        """Chunk indices and BM25 scores of the best ``k`` chunks in ``lang``."""
        if lang not in self.lexical or not query_tokens:
            return []
        bm25, rows = self.lexical[lang]
        scores = bm25.get_scores(query_tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(rows[i]), float(scores[i])) for i in top if scores[i] > 0]

    def units(self, chunk_index: int) -> tuple[tuple[str, ...], np.ndarray]:
        start, stop = self.unit_rows[chunk_index]
        return self.chunks[chunk_index].units, self.unit_vectors[start:stop]

    def twin(self, chunk_index: int) -> int | None:
        twin_id = self.chunks[chunk_index].twin_id
        return self.by_id.get(twin_id) if twin_id else None

    def token_set(self, chunk_index: int) -> frozenset[str]:
        """Lexical tokens of a chunk with its heading path (cached)."""
        cached = self._token_sets.get(chunk_index)
        if cached is None:
            chunk = self.chunks[chunk_index]
            cached = self._token_sets[chunk_index] = frozenset(tokens(chunk.section + " " + chunk.text))
        return cached

    def search_text(self, chunk_index: int) -> str:
        """The chunk's heading path and text, normalised for matching (cached)."""
        cached = self._texts.get(chunk_index)
        if cached is None:
            chunk = self.chunks[chunk_index]
            cached = self._texts[chunk_index] = normalize(chunk.section + " " + chunk.text)
        return cached

    def idf_of(self, token: str, lang: str) -> float:
        """Inverse document frequency; a term the corpus never uses weighs the most."""
        return self.idf.get(lang, {}).get(token, self.max_idf.get(lang, 1.0) + 1.0)


def open_index(settings: Settings) -> IndexStore:
    """Load the live index version, or explain how to build one."""
    live = current_version(settings.index_dir)
    if live is None:
        raise IndexMissingError(f"{settings.index_dir}: no index found; build it with `qa index`")
    try:
        return IndexStore(settings, live)
    except (EmbedderError, IndexMissingError):
        raise
    except Exception as err:  # noqa: BLE001 - any damage to the files means: rebuild
        raise IndexMissingError(
            f"{live}: the index is damaged ({type(err).__name__}: {err}); rebuild it with `qa index`"
        ) from None


class LiveIndex:
    """The index a long-running process serves: follows ``CURRENT`` to the newest complete version."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: IndexStore | None = None
        self._lock = threading.Lock()

    def get(self) -> IndexStore:
        """The loaded store, reloaded when a rebuild has published a new version."""
        live = current_version(self.settings.index_dir)
        store = self._store
        if store is not None and (live is None or live.name == store.version):
            return store  # keep answering from what is loaded if the pointer vanished
        with self._lock:
            if self._store is None or (live is not None and live.name != self._store.version):
                self._store = open_index(self.settings)
            return self._store
