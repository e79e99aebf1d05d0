"""Building an index version: chunk the corpus, embed what changed, write everything, publish, prune.

A build writes a new version beside the live one and then replaces ``CURRENT`` in one rename, so
readers never see a half-written index. Unchanged texts reuse the live version's vectors.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.chunks import Chunk, make_chunks, primary_support
from qa.config import Settings
from qa.conflicts import CONFLICTS_NAME
from qa.corpus import LANGUAGES, read_corpus
from qa.embeddings import get_embedder
from qa.index.chroma import add_collection, chroma_client, collection_name, delete_collections, store_kind
from qa.index.errors import ChromaUnavailableError, StoreMismatchError, one_line
from qa.index.versions import (
    CORPUS_COPY, FORMAT_VERSION, BuildLock, check_version, current_version, index_id, prune, publish, read_manifest,
    readable_manifest, retire,
)
from qa.manifest import MANIFEST_NAME, load_manifest, manifest_json
from qa.text import readings, tokens
from qa.transliteration import align, renderings

if TYPE_CHECKING:
    import bm25s
    from tqdm import tqdm

log = logging.getLogger(__name__)

RECORD_EXTRAS = ("hash", "unit_rows", "readings", "support", "transliterations", "renderings")  # chunks.json keys that are not Chunk fields
_BATCH = 16


@dataclass
class BuildReport:
    """What a build did: chunk counts by change, texts embedded, the version it left live."""

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
        """One line for the ``qa index`` output."""
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, unchanged {self.unchanged} "
            f"({self.chunks} chunks, {self.embedded} texts embedded) in {self.seconds:.1f} s"
            + (f"; rebuilt because {self.repaired}" if self.repaired else "")
        )


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
    with BuildLock(settings.index_dir):
        report = _build_locked(settings, chunks, embedder, show_progress, force)
    report.seconds = time.perf_counter() - started
    return report


def _build_locked(settings: Settings, chunks: list[Chunk], embedder: Any, show_progress: bool,
                  force: bool) -> BuildReport:
    from tqdm import tqdm

    live = current_version(settings.index_dir)
    repaired = ""
    damaged = False
    live_manifest: dict[str, Any] = {}
    if live is not None:
        try:
            live_manifest = check_version(settings, live)
        except ChromaUnavailableError:
            raise
        except StoreMismatchError:  # built for the other store: rebuild (reusing its vectors) for this one
            repaired = f"the live version {live.name} was built for the other store"
            live_manifest = readable_manifest(live)
        except Exception as err:  # noqa: BLE001 - damaged: rebuild it
            damaged = True
            repaired = f"the live version {live.name} is damaged ({type(err).__name__}: {one_line(err)})"
            live_manifest = readable_manifest(live)
    hashes = live_manifest.get("hashes")
    old_hashes: dict[str, str] = hashes if isinstance(hashes, dict) else {}
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

    cache = {} if force else previous_vectors(live, embedder.name)
    todo = list(dict.fromkeys(t for c in chunks for t in (c.embed_text, *c.units) if t not in cache))
    with tqdm(total=len(todo), desc="embedding", unit="text", disable=not show_progress or not todo) as bar:
        cache.update(zip(todo, _embed(embedder, todo, bar)))
    report.embedded = len(todo)

    version = "v-" + time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.time_ns() % 10**6:06d}"
    staging = settings.index_dir / (version + ".tmp")
    try:
        _write_version(settings, staging, version, chunks, cache, embedder.name)
        os.replace(staging, settings.index_dir / version)
        publish(settings.index_dir, version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if settings.chroma_url:
            delete_collections(settings, version)
        raise
    keep, doomed = {version}, set()
    if live is not None and damaged:
        doomed.add(live.name)  # of no use to anyone; a reader that still has it open answers from memory
    elif live is not None:
        keep.add(live.name)
        retire(live)  # readers may still be on it for a while
    prune(settings, keep, doomed=doomed)
    report.version, report.published = version, True
    return report


def previous_vectors(version_dir: Path | None, embedder_name: str) -> dict[str, np.ndarray]:
    """Embeddings of the live version by the text embedded, for reuse (same embedder only).

    An unreadable version is logged and reused for nothing: every text is embedded again.
    """
    if version_dir is None:
        return {}
    cache: dict[str, np.ndarray] = {}
    try:
        if read_manifest(version_dir).get("embedder") != embedder_name:
            return {}
        records = json.loads((version_dir / "chunks.json").read_text(encoding="utf-8"))
        unit_vectors = np.load(version_dir / "units.npy", allow_pickle=False)
        chunk_vectors = np.load(version_dir / "vectors.npy", allow_pickle=False)
        by_id = {r["chunk_id"]: chunk_vectors[i] for i, r in enumerate(records)}
        for record in records:
            chunk = Chunk(**{k: v for k, v in record.items() if k not in RECORD_EXTRAS})
            if chunk.chunk_id in by_id:
                cache[chunk.embed_text] = np.asarray(by_id[chunk.chunk_id], dtype=np.float32)
            start, _stop = record["unit_rows"]
            for offset, unit in enumerate(record["units"]):
                cache[unit] = unit_vectors[start + offset]
    except Exception as err:  # noqa: BLE001 - an unreadable old version just means no reuse
        log.info("not reusing the vectors of %s (%s: %s); every text is embedded again",
                 version_dir, type(err).__name__, one_line(err))
        return {}
    return cache


def _embed(embedder: Any, texts: list[str], progress: tqdm[Any]) -> np.ndarray:
    rows = []
    for start in range(0, len(texts), _BATCH):
        batch = texts[start : start + _BATCH]
        rows.append(embedder.embed_passages(batch))
        progress.update(len(batch))
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def lexical_model(corpus_tokens: Sequence[list[str]]) -> bm25s.BM25:
    """A BM25 model over one language's token lists (as searched by ``IndexStore.lexical_search``)."""
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index([list(t) or [""] for t in corpus_tokens], show_progress=False)
    return bm25


def _write_version(
    settings: Settings, path: Path, version: str, chunks: list[Chunk], vectors: dict[str, np.ndarray], embedder: str
) -> None:
    path.mkdir(parents=True)
    dim = int(len(vectors[chunks[0].embed_text]))
    unit_rows: list[np.ndarray] = []
    records = []
    offset = 0
    manifest = load_manifest(settings.corpus_dir)
    support = primary_support(chunks, manifest.primary.id)
    twins = twin_texts(chunks)
    for chunk in chunks:
        units = np.asarray([vectors[u] for u in chunk.units], dtype=np.float32).reshape(-1, dim)
        unit_rows.append(units)
        records.append({**asdict(chunk), "hash": chunk.content_hash, "unit_rows": [offset, offset + len(units)],
                        "readings": readings(chunk.section + " " + chunk.text) if chunk.lang == "ja" else [],
                        "support": support.get(chunk.chunk_id, ()),
                        "transliterations": align(chunk.text, twins[chunk.chunk_id]) if chunk.chunk_id in twins else [],
                        "renderings": renderings(chunk.text) if chunk.lang == "en" else []})
        offset += len(units)
    np.save(path / "units.npy", np.vstack(unit_rows))
    chunk_vectors = np.asarray([vectors[c.embed_text] for c in chunks], dtype=np.float32)
    np.save(path / "vectors.npy", chunk_vectors)
    (path / "chunks.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    _copy_corpus_info(settings.corpus_dir, path / CORPUS_COPY, manifest_json(manifest))

    for lang in LANGUAGES:
        rows = [i for i, c in enumerate(chunks) if c.lang == lang]
        if not rows:
            continue
        corpus_tokens = [tokens(chunks[i].section + " " + chunks[i].text) + records[i]["readings"] for i in rows]
        folder = path / f"lexical-{lang}"
        lexical_model(corpus_tokens).save(str(folder))
        (folder / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
        df = Counter(t for toks in corpus_tokens for t in set(toks or [""]))
        (folder / "df.json").write_text(json.dumps({"n": len(rows), "df": df}, ensure_ascii=False), encoding="utf-8")

    metadata: dict[str, Any] = {"embedder": embedder, "dim": dim}
    if settings.chroma_url:
        metadata["index_id"] = index_id(settings.index_dir)
    client = chroma_client(settings, path)
    for lang in LANGUAGES:
        rows = [i for i, c in enumerate(chunks) if c.lang == lang]
        if rows:
            add_collection(client, collection_name(version, lang), chunk_vectors[rows],
                           ids=[chunks[i].chunk_id for i in rows], documents=[chunks[i].text for i in rows],
                           metadatas=[chunks[i].metadata() for i in rows], metadata={**metadata, "lang": lang})
    index_manifest = {
        "format": FORMAT_VERSION, "version": version, "embedder": embedder, "dim": dim,
        "store": store_kind(settings),
        "chunks": len(chunks), "hashes": {c.chunk_id: c.content_hash for c in chunks},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "counts": _counts(chunks),
    }
    (path / "manifest.json").write_text(json.dumps(index_manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def twin_texts(chunks: list[Chunk]) -> dict[str, str]:
    """For each Japanese chunk with an English twin (the same block), the twin's text."""
    english = {c.block_key: c.text for c in chunks if c.lang == "en"}
    return {c.chunk_id: english[c.block_key] for c in chunks if c.lang == "ja" and c.block_key in english}


def _copy_corpus_info(corpus_dir: Path, folder: Path, manifest: dict[str, Any]) -> None:
    """Keep the corpus manifest (as read, so a made-up one too) and its conflicts in the version."""
    folder.mkdir()
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    if (corpus_dir / CONFLICTS_NAME).is_file():
        shutil.copyfile(corpus_dir / CONFLICTS_NAME, folder / CONFLICTS_NAME)


def _counts(chunks: list[Chunk]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in chunks:
        counts[f"{c.doc}.{c.lang}"] = counts.get(f"{c.doc}.{c.lang}", 0) + 1
    return counts
