"""Index versions: the ``CURRENT`` pointer, the build lock, checking a version, pruning old ones.

Old versions go only when no reader can still be using them: a build keeps the version it
replaced, and removes older ones once they have been out of ``CURRENT`` for
``Settings.prune_grace`` seconds (QA_PRUNE_GRACE, 60 by default).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

from qa.config import Settings
from qa.index.chroma import (
    chroma_client, collection_name, collection_version, delete_collection, delete_collections, store_kind,
)
from qa.index.errors import StoreMismatchError

log = logging.getLogger(__name__)

FORMAT_VERSION = 13  # bump when chunking, units, lexical tokens or the store layout change
CORPUS_COPY = "corpus"  # a version's copy of the corpus manifest and conflicts, for when the corpus is gone


def current_version(index_dir: Path) -> Path | None:
    """The live version directory, or None when there is none."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    path = index_dir / name
    return path if name and "/" not in name and (path / "manifest.json").is_file() else None


def read_manifest(version_dir: Path) -> dict[str, Any]:
    """A version's ``manifest.json``; raises if it is unreadable or not an index manifest."""
    manifest = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or not isinstance(manifest.get("hashes"), dict):
        raise ValueError(f"{version_dir / 'manifest.json'} is not an index manifest")
    return manifest


def readable_manifest(version_dir: Path) -> dict[str, Any]:
    """A version's manifest, or ``{}`` (logged) when it cannot be read: then nothing of it is reused."""
    try:
        return read_manifest(version_dir)
    except Exception as err:  # noqa: BLE001 - any damage means the same: nothing to compare with
        log.info("cannot read %s (%s: %s); every chunk counts as new", version_dir / "manifest.json",
                 type(err).__name__, err)
        return {}


def build_needed(index_dir: Path) -> str:
    """Why the index must be built before it can be read ("" when it need not)."""
    live = current_version(index_dir)
    if live is None:
        return f"No index in {index_dir}"
    try:
        found = read_manifest(live).get("format")
    except Exception as err:  # noqa: BLE001 - a damaged version is reported when it is opened
        log.debug("skipped the format check of %s (%s: %s); opening it reports the damage",
                  live, type(err).__name__, err)
        return ""
    return "" if found == FORMAT_VERSION else f"The index {live} is in format {found}, not {FORMAT_VERSION}"


def corpus_source(settings: Settings) -> Path:
    """Where the corpus manifest and conflicts are read from: the corpus directory, or, once it is gone,
    the copies the live index version keeps (so an index answers without its corpus)."""
    if settings.corpus_dir.is_dir():
        return settings.corpus_dir
    live = current_version(settings.index_dir)
    if live is not None and (live / CORPUS_COPY).is_dir():
        log.info("corpus %s not found; reading its manifest and conflicts from index version %s",
                 settings.corpus_dir, live.name)
        return live / CORPUS_COPY
    return settings.corpus_dir


def index_id(index_dir: Path) -> str:
    """This index's id, made on first use; it tags the index's collections on a Chroma server."""
    path = index_dir / "ID"
    if path.is_file():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    value = uuid.uuid4().hex
    tmp = index_dir / f"ID.{os.getpid()}.tmp"
    tmp.write_text(value + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return value


def publish(index_dir: Path, version: str) -> None:
    """Make ``version`` the live one: write ``CURRENT`` beside it and rename it into place."""
    pointer = index_dir / f"CURRENT.{os.getpid()}.tmp"
    with open(pointer, "w", encoding="utf-8") as f:
        f.write(version + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer, index_dir / "CURRENT")


class BuildLock:
    """An exclusive lock on ``index/LOCK`` (flock: released by the kernel if the builder dies)."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / "LOCK"
        self._file: IO[str] | None = None

    def __enter__(self) -> BuildLock:
        import fcntl

        self._file = open(self.path, "a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("waiting for another index build in %s to finish", self.path.parent)
            fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        import fcntl

        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()


def retire(version_dir: Path) -> None:
    """Mark the moment ``version_dir`` left ``CURRENT`` (its mtime), from which its grace period runs."""
    try:
        os.utime(version_dir)
    except OSError as err:
        log.warning("could not mark %s as replaced (%s); it is pruned by its last change time instead",
                    version_dir, err)


def prune(settings: Settings, keep: set[str], grace: float | None = None,
          doomed: frozenset[str] | set[str] = frozenset()) -> list[str]:
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
        except OSError as err:
            log.info("skipped pruning %s: %s", path, err)
            continue
        if not unfinished and path.name not in doomed and now - retired < grace:
            continue
        if settings.chroma_url:
            delete_collections(settings, path.name.removesuffix(".tmp"))
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    if settings.chroma_url:
        removed += _sweep_server(settings, keep)
    return removed


def _sweep_server(settings: Settings, keep: set[str]) -> list[str]:
    """Delete this index's collections on the server whose version directory is gone (best effort)."""
    removed = []
    try:
        ours = index_id(settings.index_dir)
        for collection in chroma_client(settings, Path(".")).list_collections():
            version = collection_version(collection.name)
            if (collection.metadata or {}).get("index_id") == ours and version not in keep \
                    and not (settings.index_dir / version).is_dir():
                delete_collection(settings, collection.name)
                removed.append(collection.name)
    except Exception as err:  # noqa: BLE001 - the next build sweeps again
        log.warning("skipped sweeping leftover collections on the Chroma server (%s: %s); the next build tries again",
                    type(err).__name__, err)
    return removed


def check_version(settings: Settings, version_dir: Path) -> dict[str, Any]:
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
