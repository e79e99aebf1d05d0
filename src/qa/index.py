"""The persisted bilingual index: Chroma and exact vectors (dense), BM25 (lexical), swapped atomically.

Layout of ``index/``::

    CURRENT              name of the live version directory
    ID                   this index's id (tags its collections on a Chroma server)
    LOCK                 held while a build runs, so builds never overlap
    v-<stamp>/           one complete version
        manifest.json    embedder, dimension, chunk hashes, counts, store ("embedded" or "server")
        chunks.json      every chunk with its metadata, answer units, (Japanese) romanised readings and,
                         for the article's units, the fact-sheet passage that holds their facts
        vectors.npy      the chunk embeddings, in chunk order (reuse, and search from memory)
        units.npy        embeddings of the answer units (for answer composition)
        lexical-ja/ …    BM25 per language (bm25s); Japanese also by romanised readings
        chroma/          the Chroma collections, one per language (unless QA_CHROMA_URL names a server)

A build writes a new version beside the live one and then replaces ``CURRENT``
in one rename, so readers never see a half-written index. With a Chroma server
the version's collections are ``qa-<version>-<lang>`` on the server and the rest stays in
the version directory.

Old versions go only when no reader can still be using them: a build keeps the
version it replaced, and removes older ones once they have been out of ``CURRENT``
for ``Settings.prune_grace`` seconds (QA_PRUNE_GRACE, 60 by default). A reader whose
version disappears anyway keeps answering from memory (``IndexStore.dense`` falls
back to the chunk vectors it loaded) and moves to the new version on its next request.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from qa.chunks import Chunk, make_chunks, primary_support
from qa.config import Settings
from qa.manifest import load_manifest
from qa.corpus import LANGUAGES, read_corpus
from qa.embeddings import EmbedderError, get_embedder
from qa.text import normalize, readings, tokens

FORMAT_VERSION = 9  # bump when chunking, units, lexical tokens or the store layout change
COLLECTION_PREFIX = "qa-"
_RECORD_EXTRAS = ("hash", "unit_rows", "readings", "support")  # chunks.json keys that are not Chunk fields
_BATCH = 16


class IndexMissingError(RuntimeError):
    """No usable index; the message says how to build one."""


class ChromaUnavailableError(IndexMissingError):
    """The Chroma server named by QA_CHROMA_URL cannot be reached; the message says how to start one."""


class StoreMismatchError(IndexMissingError):
    """A version built for the embedded store opened with a Chroma server configured, or the reverse."""


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
    published: bool = False  # a new version was written and made live
    repaired: str = ""  # why the live version was rebuilt although the corpus had not changed

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, unchanged {self.unchanged} "
            f"({self.chunks} chunks, {self.embedded} texts embedded) in {self.seconds:.1f} s"
            + (f"; rebuilt because {self.repaired}" if self.repaired else "")
        )


# ---------------------------------------------------------------- Chroma access


def redact_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages and logs."""
    parsed = urlparse(url)
    if parsed.username is None and parsed.password is None:
        return url
    host = parsed.hostname or ""
    return parsed._replace(netloc=f"***@{host}" + (f":{parsed.port}" if parsed.port else "")).geturl()


def store_kind(settings: Settings) -> str:
    return "server" if settings.chroma_url else "embedded"


def chroma_client(settings: Settings, version_dir: Path):
    """A Chroma client: the server at QA_CHROMA_URL, else the version's own directory."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1", port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https", settings=chroma_settings,
            )
        except Exception as err:  # noqa: BLE001 - chromadb raises ValueError for a refused connection
            raise ChromaUnavailableError(
                f"cannot reach the Chroma server at {redact_url(settings.chroma_url)} ({err}); start it with "
                "`chroma run --path <dir> --host 127.0.0.1 --port <port>`, or unset QA_CHROMA_URL to use the "
                "embedded store"
            ) from None
    return chromadb.PersistentClient(path=str(version_dir / "chroma"), settings=chroma_settings)


def collection_name(version: str, lang: str) -> str:
    """One collection per version and language: a search never needs a metadata filter."""
    return f"{COLLECTION_PREFIX}{version}-{lang}"


def _collection_version(name: str) -> str:
    return name.removeprefix(COLLECTION_PREFIX).rsplit("-", 1)[0]


# ---------------------------------------------------------------- versions


def current_version(index_dir: Path) -> Path | None:
    """The live version directory, or None when there is none."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    path = index_dir / name
    return path if name and "/" not in name and (path / "manifest.json").is_file() else None


def build_needed(index_dir: Path) -> str:
    """Why the index must be built before it can be read ("" when it need not)."""
    live = current_version(index_dir)
    if live is None:
        return f"No index in {index_dir}"
    try:
        found = read_manifest(live).get("format")
    except Exception:  # noqa: BLE001 - a damaged version is reported when it is opened
        return ""
    return "" if found == FORMAT_VERSION else f"The index {live} is in format {found}, not {FORMAT_VERSION}"


def read_manifest(version_dir: Path) -> dict:
    manifest = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or not isinstance(manifest.get("hashes"), dict):
        raise ValueError(f"{version_dir / 'manifest.json'} is not an index manifest")
    return manifest


def index_id(index_dir: Path) -> str:
    """This index's id, made on first use; it tags the index's collections on a Chroma server."""
    path = index_dir / "ID"
    try:
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    except OSError:
        pass
    value = uuid.uuid4().hex
    tmp = index_dir / f"ID.{os.getpid()}.tmp"
    tmp.write_text(value + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return value


def _publish(index_dir: Path, version: str) -> None:
    pointer = index_dir / f"CURRENT.{os.getpid()}.tmp"
    with open(pointer, "w", encoding="utf-8") as f:
        f.write(version + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer, index_dir / "CURRENT")


class _BuildLock:
    """An exclusive lock on ``index/LOCK`` (flock: released by the kernel if the builder dies)."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / "LOCK"
        self._file = None

    def __enter__(self) -> "_BuildLock":
        import fcntl

        self._file = open(self.path, "a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another index build in {self.path.parent} to finish", file=sys.stderr)
            fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        import fcntl

        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def _delete_collection(settings: Settings, name: str) -> None:
    try:
        chroma_client(settings, Path(".")).delete_collection(name)
    except Exception:  # noqa: BLE001 - already gone, or the server is away: nothing to keep
        pass


def _delete_collections(settings: Settings, version: str) -> None:
    for lang in LANGUAGES:
        _delete_collection(settings, collection_name(version, lang))


def _prune(settings: Settings, keep: set[str], grace: float | None = None, doomed: set[str] = frozenset()) -> list[str]:
    """Remove versions other than ``keep`` that were replaced more than ``grace`` seconds ago, the
    ``doomed`` ones (damaged) at once, unfinished builds, and (on a Chroma server) this index's
    collections without a version directory.

    Runs under the build lock, so a ``.tmp`` directory is a dead build's leftover.
    """
    grace = settings.prune_grace if grace is None else grace
    now = time.time()
    removed = []
    for path in settings.index_dir.glob("v-*"):
        if path.name in keep or not path.is_dir():
            continue
        unfinished = path.name.endswith(".tmp")
        try:
            retired = path.stat().st_mtime  # touched when CURRENT moved away from it
        except OSError:
            continue
        if not unfinished and path.name not in doomed and now - retired < grace:
            continue
        if settings.chroma_url:
            _delete_collections(settings, path.name.removesuffix(".tmp"))
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    if settings.chroma_url:
        try:
            ours = index_id(settings.index_dir)
            for collection in chroma_client(settings, Path(".")).list_collections():
                version = _collection_version(collection.name)
                if (collection.metadata or {}).get("index_id") == ours and version not in keep \
                        and not (settings.index_dir / version).is_dir():
                    _delete_collection(settings, collection.name)
                    removed.append(collection.name)
        except Exception:  # noqa: BLE001 - sweeping is best effort
            pass
    return removed


# ---------------------------------------------------------------- checking


def check_version(settings: Settings, version_dir: Path) -> dict:
    """Raise if the version's files are missing or unreadable, or if it was built for another store.

    Reads files only (no Chroma client for the embedded store, so a check never writes into a
    version that readers have open). Returns the manifest.
    """
    manifest = read_manifest(version_dir)
    built_for = manifest.get("store", "embedded")
    if built_for != store_kind(settings):
        where = "a Chroma server" if built_for == "server" else "the embedded store"
        raise StoreMismatchError(
            f"{version_dir}: built for {where}, but QA_CHROMA_URL "
            + ("is set" if settings.chroma_url else "is not set")
            + "; rebuild it with `qa index` under the same settings"
        )
    records = json.loads((version_dir / "chunks.json").read_text(encoding="utf-8"))
    if not isinstance(records, list) or len(records) != manifest.get("chunks"):
        raise ValueError(f"chunks.json holds {len(records) if isinstance(records, list) else '?'} chunks, "
                         f"the manifest {manifest.get('chunks')}")
    units = np.load(version_dir / "units.npy", allow_pickle=False)
    if records and units.shape[0] != records[-1]["unit_rows"][1]:
        raise ValueError(f"units.npy holds {units.shape[0]} rows, chunks.json expects {records[-1]['unit_rows'][1]}")
    vectors = np.load(version_dir / "vectors.npy", allow_pickle=False)
    if vectors.shape[0] != len(records):
        raise ValueError(f"vectors.npy holds {vectors.shape[0]} rows for {len(records)} chunks")
    for lang in {r["lang"] for r in records}:
        folder = version_dir / f"lexical-{lang}"
        json.loads((folder / "rows.json").read_text(encoding="utf-8"))
        json.loads((folder / "df.json").read_text(encoding="utf-8"))
        if not (folder / "params.index.json").is_file():
            raise FileNotFoundError(f"{folder / 'params.index.json'} is missing")
    if settings.chroma_url:
        client = chroma_client(settings, version_dir)
        for lang in {r["lang"] for r in records}:
            name = collection_name(version_dir.name, lang)
            count, expected = client.get_collection(name).count(), sum(r["lang"] == lang for r in records)
            if count != expected:
                raise ValueError(f"collection {name} holds {count} chunks, not {expected}")
    else:
        with open(version_dir / "chroma" / "chroma.sqlite3", "rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise ValueError(f"{version_dir / 'chroma' / 'chroma.sqlite3'} is not a SQLite database")
    return manifest


# ---------------------------------------------------------------- building


def _previous_vectors(version_dir: Path | None, embedder_name: str) -> dict[str, np.ndarray]:
    """Embeddings of the live version by the text embedded, for reuse (same embedder only)."""
    if version_dir is None:
        return {}
    try:
        if read_manifest(version_dir).get("embedder") != embedder_name:
            return {}
        records = json.loads((version_dir / "chunks.json").read_text(encoding="utf-8"))
        unit_vectors = np.load(version_dir / "units.npy", allow_pickle=False)
        chunk_vectors = np.load(version_dir / "vectors.npy", allow_pickle=False)
        by_id = {r["chunk_id"]: chunk_vectors[i] for i, r in enumerate(records)}
    except Exception:  # noqa: BLE001 - an unreadable old version just means no reuse
        return {}
    cache: dict[str, np.ndarray] = {}
    try:
        for record in records:
            chunk = Chunk(**{k: v for k, v in record.items() if k not in _RECORD_EXTRAS})
            if chunk.chunk_id in by_id:
                cache[chunk.embed_text] = np.asarray(by_id[chunk.chunk_id], dtype=np.float32)
            start, _stop = record["unit_rows"]
            for offset, unit in enumerate(record["units"]):
                cache[unit] = unit_vectors[start + offset]
    except Exception:  # noqa: BLE001
        return {}
    return cache


def _embed(embedder, texts: list[str], progress) -> np.ndarray:
    rows = []
    for start in range(0, len(texts), _BATCH):
        batch = texts[start : start + _BATCH]
        rows.append(embedder.embed_passages(batch))
        progress.update(len(batch))
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def build_index(settings: Settings | None = None, show_progress: bool = True, force: bool = False) -> BuildReport:
    """Build or refresh the index; re-embed only chunks whose text changed.

    An unchanged corpus leaves the live version as it is, unless that version is damaged, was built
    for the other store (embedded or server), or ``force`` is set: then a new version is written
    (reusing what vectors can still be read, none with ``force``).
    """
    settings = settings or Settings()
    started = time.perf_counter()
    chunks = make_chunks(read_corpus(settings.corpus_dir))  # fails before anything is written
    embedder = get_embedder(settings.embedder)
    if settings.chroma_url:
        chroma_client(settings, settings.index_dir)  # an unreachable server fails now, not after embedding
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with _BuildLock(settings.index_dir):
        report = _build_locked(settings, chunks, embedder, show_progress, force)
    report.seconds = time.perf_counter() - started
    return report


def _build_locked(settings: Settings, chunks: list[Chunk], embedder, show_progress: bool, force: bool) -> BuildReport:
    from tqdm import tqdm

    live = current_version(settings.index_dir)
    repaired = ""
    damaged = False
    live_manifest: dict = {}
    if live is not None:
        try:
            live_manifest = check_version(settings, live)
        except ChromaUnavailableError:
            raise
        except StoreMismatchError:  # built for the other store: rebuild (reusing its vectors) for this one
            repaired = f"the live version {live.name} was built for the other store"
            live_manifest = _readable_manifest(live)
        except Exception as err:  # noqa: BLE001 - damaged: rebuild it
            damaged = True
            repaired = f"the live version {live.name} is damaged ({type(err).__name__}: {_one_line(err)})"
            live_manifest = _readable_manifest(live)
    old_hashes: dict[str, str] = live_manifest.get("hashes", {}) if isinstance(live_manifest.get("hashes"), dict) else {}
    new_hashes = {c.chunk_id: c.content_hash for c in chunks}
    report = BuildReport(
        added=sum(1 for cid in new_hashes if cid not in old_hashes),
        updated=sum(1 for cid, h in new_hashes.items() if cid in old_hashes and old_hashes[cid] != h),
        removed=sum(1 for cid in old_hashes if cid not in new_hashes),
        unchanged=sum(1 for cid, h in new_hashes.items() if old_hashes.get(cid) == h),
        chunks=len(chunks),
    )
    if force and not repaired:
        repaired = "a full rebuild was asked for"
    if (live and not repaired and old_hashes == new_hashes and live_manifest.get("embedder") == embedder.name
            and live_manifest.get("format") == FORMAT_VERSION):
        report.version = live.name
        return report
    report.repaired = repaired

    cache = {} if force else _previous_vectors(live, embedder.name)
    todo = list(dict.fromkeys(t for c in chunks for t in (c.embed_text, *c.units) if t not in cache))
    with tqdm(total=len(todo), desc="embedding", unit="text", disable=not show_progress or not todo) as bar:
        cache.update(zip(todo, _embed(embedder, todo, bar)))
    report.embedded = len(todo)

    version = "v-" + time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.time_ns() % 10**6:06d}"
    staging = settings.index_dir / (version + ".tmp")
    try:
        _write_version(settings, staging, version, chunks, cache, embedder.name)
        final = settings.index_dir / version
        os.replace(staging, final)
        _publish(settings.index_dir, version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if settings.chroma_url:
            _delete_collections(settings, version)
        raise
    keep, doomed = {version}, set()
    if live is not None and damaged:
        doomed.add(live.name)  # of no use to anyone; a reader that still has it open answers from memory
    elif live is not None:
        keep.add(live.name)
        try:
            os.utime(live)  # the moment it was replaced: readers may still be on it for a while
        except OSError:
            pass
    _prune(settings, keep, doomed=doomed)
    report.version, report.published = version, True
    return report


def _readable_manifest(version_dir: Path) -> dict:
    try:
        return read_manifest(version_dir)
    except Exception:  # noqa: BLE001
        return {}


def _write_version(
    settings: Settings, path: Path, version: str, chunks: list[Chunk], vectors: dict[str, np.ndarray], embedder: str
) -> None:
    import bm25s

    path.mkdir(parents=True)
    dim = int(len(vectors[chunks[0].embed_text]))
    unit_rows: list[np.ndarray] = []
    records = []
    offset = 0
    support = primary_support(chunks, load_manifest(settings.corpus_dir).primary.id)
    for chunk in chunks:
        units = np.asarray([vectors[u] for u in chunk.units], dtype=np.float32).reshape(-1, dim)
        unit_rows.append(units)
        records.append({**asdict(chunk), "hash": chunk.content_hash, "unit_rows": [offset, offset + len(units)],
                        "readings": readings(chunk.section + " " + chunk.text) if chunk.lang == "ja" else [],
                        "support": support.get(chunk.chunk_id, ())})
        offset += len(units)
    np.save(path / "units.npy", np.vstack(unit_rows))
    chunk_vectors = np.asarray([vectors[c.embed_text] for c in chunks], dtype=np.float32)
    np.save(path / "vectors.npy", chunk_vectors)
    (path / "chunks.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")

    for lang in LANGUAGES:
        rows = [i for i, c in enumerate(chunks) if c.lang == lang]
        if not rows:
            continue
        corpus_tokens = [tokens(chunks[i].section + " " + chunks[i].text) + records[i]["readings"] or [""]
                         for i in rows]
        bm25 = bm25s.BM25()
        bm25.index(corpus_tokens, show_progress=False)
        folder = path / f"lexical-{lang}"
        bm25.save(str(folder))
        (folder / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
        df = Counter(t for toks in corpus_tokens for t in set(toks))
        (folder / "df.json").write_text(json.dumps({"n": len(rows), "df": df}, ensure_ascii=False), encoding="utf-8")

    metadata = {"embedder": embedder, "dim": dim}
    if settings.chroma_url:
        metadata["index_id"] = index_id(settings.index_dir)
    client = chroma_client(settings, path)
    for lang in LANGUAGES:
        rows = [i for i, c in enumerate(chunks) if c.lang == lang]
        if not rows:
            continue
        collection = client.create_collection(
            collection_name(version, lang),
            configuration={"hnsw": {"space": "cosine"}},
            metadata={**metadata, "lang": lang},
            embedding_function=None,
        )
        for start in range(0, len(rows), 1000):
            batch = rows[start : start + 1000]
            collection.add(
                ids=[chunks[i].chunk_id for i in batch],
                embeddings=chunk_vectors[batch],
                documents=[chunks[i].text for i in batch],
                metadatas=[chunks[i].metadata() for i in batch],
            )
    manifest = {
        "format": FORMAT_VERSION, "version": version, "embedder": embedder, "dim": dim,
        "store": store_kind(settings),
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
        self.unit_rows = [tuple(r.pop("unit_rows")) for r in records]
        self.readings = [tuple(r.pop("readings")) for r in records]
        self.support = [tuple(r.pop("support")) for r in records]  # per unit: a fact-sheet chunk id, or ""
        for r in records:
            r.pop("hash")
            r["units"] = tuple(r["units"])
        self.chunks = [Chunk(**r) for r in records]
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.unit_vectors = np.load(version_dir / "units.npy", allow_pickle=False)
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
        vectors = np.load(version_dir / "vectors.npy", allow_pickle=False)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms == 0, 1.0, norms)
        langs = np.asarray([c.lang for c in self.chunks])
        self._rows = {lang: np.flatnonzero(langs == lang) for lang in LANGUAGES}
        self._lang_vectors = {lang: np.ascontiguousarray(vectors[rows]) for lang, rows in self._rows.items()}
        self.collections = {}  # Chroma is opened only for languages too large to search exactly
        large = [lang for lang, rows in self._rows.items() if len(rows) > settings.exact_search_max]
        if large:
            client = chroma_client(settings, version_dir)
            for lang in large:
                collection = client.get_collection(collection_name(self.version, lang))
                if (collection.metadata or {}).get("embedder") != settings.embedder:
                    raise EmbedderError(f"collection {collection.name} was not built with {settings.embedder!r}")
                # load the vector index now: damage shows here, not in the middle of an answer
                collection.query(query_embeddings=[self._lang_vectors[lang][0]], n_results=1, include=["distances"])
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
                    collection = self.collections[lang]
                    got = collection.query(
                        query_embeddings=[np.asarray(query_vector, dtype=np.float32)],
                        n_results=min(k, len(self._rows[lang])),
                        include=["distances"],
                    )
                    return [(self.by_id[cid], 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0])]
                except Exception as err:  # noqa: BLE001
                    print(f"qa: Chroma failed for index {self.version} ({type(err).__name__}: {err}); "
                          "answering from the vectors in memory until the index is rebuilt", file=sys.stderr)
            else:
                print(f"qa: index {self.path} has gone; answering from the vectors in memory until the index "
                      "is rebuilt (`qa index`)", file=sys.stderr)
            self.from_memory = True
        return self._dense_in_memory(query_vector, k, lang)

    def _dense_in_memory(self, query_vector: np.ndarray, k: int, lang: str) -> list[tuple[int, float]]:
        query = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        query = query / (np.linalg.norm(query) or 1.0)
        rows = self._rows.get(lang)
        if rows is None or not len(rows):
            return []
        scores = self._lang_vectors[lang] @ query
        k = min(k, len(rows))
        top = np.argpartition(-scores, k - 1)[:k]
        order = top[np.argsort(-scores[top], kind="stable")]
        return [(int(rows[i]), float(scores[i])) for i in order]

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
    return _open_version(settings, live)


def _open_version(settings: Settings, version_dir: Path) -> IndexStore:
    try:
        return IndexStore(settings, version_dir)
    except (EmbedderError, IndexMissingError):
        raise
    except Exception as err:  # noqa: BLE001 - any damage to the files means: rebuild
        if settings.chroma_url and _is_connection_error(err):
            raise ChromaUnavailableError(
                f"lost the Chroma server at {redact_url(settings.chroma_url)} ({type(err).__name__}); "
                "check that it runs, or unset QA_CHROMA_URL"
            ) from None
        raise IndexMissingError(
            f"{version_dir}: the index is damaged ({type(err).__name__}: {_one_line(err)}); "
            "rebuild it with `qa index`"
        ) from None


def _is_connection_error(err: Exception) -> bool:
    names = {cls.__name__ for cls in type(err).__mro__}
    return bool(names & {"ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError", "ConnectionError"}) \
        or "Could not connect" in str(err)


def _one_line(err: Exception) -> str:
    text = " ".join(str(err).split())
    return text[:200] + ("…" if len(text) > 200 else "")


class LiveIndex:
    """The index a long-running process serves: follows ``CURRENT`` to the newest complete version.

    A new version that cannot be opened does not stop the service: the loaded one keeps answering
    (with a warning) until a good version is published. Without any loaded version the error goes
    to the caller.
    """

    RETRY_SECONDS = 30.0  # a new version that failed to open is tried again after this long

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: IndexStore | None = None
        self._lock = threading.Lock()
        self._failed: tuple[str, float] = ("", 0.0)  # the version that last failed to open, and when

    def _skip(self, name: str) -> bool:
        return name == self._failed[0] and time.monotonic() - self._failed[1] < self.RETRY_SECONDS

    def get(self) -> IndexStore:
        """The loaded store, reloaded when a rebuild has published a new version."""
        live = current_version(self.settings.index_dir)
        store = self._store
        if store is not None and (live is None or live.name == store.version or self._skip(live.name)):
            return store  # keep answering from what is loaded if the pointer vanished or the new one is bad
        with self._lock:
            live = current_version(self.settings.index_dir)
            if self._store is None:
                if live is None:
                    raise IndexMissingError(f"{self.settings.index_dir}: no index found; build it with `qa index`")
                self._store = _open_version(self.settings, live)
            elif live is not None and live.name != self._store.version and not self._skip(live.name):
                try:
                    self._store = _open_version(self.settings, live)
                    self._failed = ("", 0.0)
                except (IndexMissingError, EmbedderError) as err:
                    if self._failed[0] != live.name:
                        print(f"qa: keeping index {self._store.version}: the new version cannot be used: {err}",
                              file=sys.stderr)
                    self._failed = (live.name, time.monotonic())
            return self._store
