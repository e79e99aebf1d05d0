"""Words the documents use everywhere: mined from the corpus, they name no particular topic or place.

In a corpus about two countries' agreement, their names are in most passages; in a city's flood plan,
the city's. A place the documents mention that often does not answer "where", and a word that common
does not tell which section a broad question is about.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from qa.text import EN_STOPWORDS, has_cjk, name_tokens, tokens

if TYPE_CHECKING:
    from qa.index import IndexStore

SETTING_SHARE = 0.2  # a place named in this share of the passages is where everything happens, no answer
TOPIC_SHARE = 0.5  # a word in this share of the passages names no section in particular

_shares: dict[str, dict[str, float]] = {}
_ubiquitous: dict[tuple[str, float], frozenset[str]] = {}
_lock = threading.Lock()


def _token_shares(store: IndexStore) -> dict[str, float]:
    """For every token, the share of its language's passages that hold it (once per index version)."""
    with _lock:
        if store.version not in _shares:
            counts: dict[tuple[str, str], int] = {}
            sizes: dict[str, int] = {}
            for i, chunk in enumerate(store.chunks):
                sizes[chunk.lang] = sizes.get(chunk.lang, 0) + 1
                for token in store.token_set(i):
                    counts[(chunk.lang, token)] = counts.get((chunk.lang, token), 0) + 1
            shares: dict[str, float] = {}
            for (lang, token), n in counts.items():
                shares[token] = max(shares.get(token, 0.0), n / sizes[lang])
            _shares.clear()
            _shares[store.version] = shares
        return _shares[store.version]


def ubiquitous(store: IndexStore, share: float = TOPIC_SHARE) -> frozenset[str]:
    """Tokens found in at least ``share`` of the passages of their language (once per index version)."""
    key = (store.version, share)
    if key not in _ubiquitous:
        found = frozenset(t for t, s in _token_shares(store).items() if s >= share)
        with _lock:
            if len(_ubiquitous) > 8:
                _ubiquitous.clear()
            _ubiquitous[key] = found
    return _ubiquitous[key]


def is_setting(place: str, store: IndexStore) -> bool:
    """Every word of a place name is one the documents use everywhere ("Japan", "the United States")."""
    shares = _token_shares(store)
    words = tokens(place)
    return bool(words) and all(shares.get(w, 0.0) >= SETTING_SHARE for w in words)


def beyond_setting(words: set[str] | frozenset[str], store: IndexStore) -> set[str]:
    """The words that are neither setting words nor formed from them ("japanese" from "japan", "us-japan"):
    what a name says beyond where everything happens."""
    setting = ubiquitous(store, SETTING_SHARE)
    stems = [w for w in setting if len(w) >= 3]  # long enough that a word starting with one is formed from it

    def of_setting(part: str) -> bool:
        return part in setting or any(part.startswith(s) for s in stems)

    return {w for w in words if not all(of_setting(p) for p in w.split("-") if p and p not in EN_STOPWORDS)}


def names_beyond_setting(name: str, store: IndexStore) -> bool:
    """A name says more than the setting: a Japanese compound holds a proper noun that is no setting word
    (東京ガス, 東芝; not 日本企業, "Japanese companies"), a Latin one a word that is none."""
    words = name_tokens(name) if has_cjk(name) else frozenset(tokens(name))
    return bool(beyond_setting(set(words), store))
