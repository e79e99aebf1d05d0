"""The Chroma adapter: the client (embedded per version, or a server), collection names, adding and deleting.

One collection per version and language, named ``qa-<version>-<lang>``, cosine space, vectors computed
by the project's embedder (never Chroma's embedding function). A collection on a server carries the
index's id in its metadata, so a build sweeps only its own leftovers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from qa.config import Settings
from qa.corpus import LANGUAGES
from qa.index.errors import ChromaUnavailableError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)

COLLECTION_PREFIX = "qa-"
ADD_BATCH = 1000


def redact_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages and logs."""
    parsed = urlparse(url)
    if parsed.username is None and parsed.password is None:
        return url
    host = parsed.hostname or ""
    return parsed._replace(netloc=f"***@{host}" + (f":{parsed.port}" if parsed.port else "")).geturl()


def store_kind(settings: Settings) -> str:
    """``"server"`` with QA_CHROMA_URL set, else ``"embedded"``."""
    return "server" if settings.chroma_url else "embedded"


def chroma_client(settings: Settings, version_dir: Path) -> ClientAPI:
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


def collection_version(name: str) -> str:
    """The version a collection belongs to (``qa-v-…-ja`` → ``v-…``)."""
    return name.removeprefix(COLLECTION_PREFIX).rsplit("-", 1)[0]


def add_collection(
    client: ClientAPI, name: str, vectors: np.ndarray, ids: Sequence[str], documents: Sequence[str],
    metadatas: Sequence[dict[str, Any]], metadata: dict[str, Any],
) -> Collection:
    """Create collection ``name`` (cosine, no embedding function) holding the given precomputed vectors."""
    collection = client.create_collection(
        name, configuration={"hnsw": {"space": "cosine"}}, metadata=metadata, embedding_function=None,
    )
    batch = min(ADD_BATCH, client.get_max_batch_size())
    for start in range(0, len(ids), batch):
        stop = start + batch
        collection.add(ids=list(ids[start:stop]), embeddings=vectors[start:stop], documents=list(documents[start:stop]),
                       metadatas=list(metadatas[start:stop]))
    return collection


def nearest(collection: Collection, query_vector: np.ndarray, k: int) -> list[tuple[str, float]]:
    """Ids and cosine similarities of the ``k`` nearest vectors in ``collection`` (its HNSW index)."""
    got = collection.query(query_embeddings=np.asarray(query_vector, dtype=np.float32).reshape(1, -1), n_results=k,
                           include=["distances"])
    distances = got["distances"] or [[]]
    return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], distances[0])]


def delete_collection(settings: Settings, name: str) -> None:
    """Delete one collection; one that is gone already, or a server that is away, is logged and left."""
    try:
        chroma_client(settings, Path(".")).delete_collection(name)
    except Exception as err:  # noqa: BLE001 - the next build's sweep removes what is left
        log.info("did not delete Chroma collection %s (%s: %s); a later build's sweep removes it if it is left",
                 name, type(err).__name__, err)


def delete_collections(settings: Settings, version: str) -> None:
    """Delete a version's collections on the server, one per language."""
    for lang in LANGUAGES:
        delete_collection(settings, collection_name(version, lang))
