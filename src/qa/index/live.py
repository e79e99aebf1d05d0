"""The live swap: a long-running process follows ``CURRENT`` to the newest complete version."""

from __future__ import annotations

import logging
import threading
import time

from qa.config import Settings
from qa.embeddings import EmbedderError
from qa.index.errors import IndexMissingError
from qa.index.store import IndexStore, open_version
from qa.index.versions import current_version

log = logging.getLogger(__name__)


class LiveIndex:
    """The index a long-running process serves: follows ``CURRENT`` to the newest complete version.

    A new version that cannot be opened does not stop the service: the loaded one keeps answering
    (with a logged warning) until a good version is published. Without any loaded version the error
    goes to the caller. A reader whose version disappears keeps answering from memory
    (``IndexStore.dense`` falls back to the chunk vectors it loaded) and moves to the new version
    on its next request.
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
                self._store = open_version(self.settings, live)
            elif live is not None and live.name != self._store.version and not self._skip(live.name):
                try:
                    self._store = open_version(self.settings, live)
                    self._failed = ("", 0.0)
                except (IndexMissingError, EmbedderError) as err:
                    if self._failed[0] != live.name:
                        log.warning("keeping index %s: the new version cannot be used: %s", self._store.version, err)
                    self._failed = (live.name, time.monotonic())
            return self._store
