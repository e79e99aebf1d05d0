"""Answer sentences that read on their own, from the documents' structure.

- A sentence that opens with a demonstrative ("This includes…", "これは…") brings the sentence
  it points back to.
- A sentence that says what it is about only through its passage's first sentence ("The project
  costs ¥18 billion.") brings that first sentence.
- FAQ labels ("A2:") are not shown.
- A sentence that announces a list ("…the following investments.") answers nothing by itself:
  the passage after it is a list.
"""

from __future__ import annotations

import re

from qa.corpus import FAQ_LABEL
from qa.index import IndexStore

# Demonstratives are a closed grammatical class: a sentence opening with one depends on the one before.
_DEMONSTRATIVE = re.compile(r"^(?:this|these|that|those|it|they|such)\b|^(?:これ|それ|この|その|こうした|こちら|同)", re.I)


def strip_label(text: str) -> str:
    """The text without an FAQ label ("A2: …" → "…")."""
    return FAQ_LABEL.sub("", text, count=1)


def _join(first: str, then: str, lang: str) -> str:
    """Two units of one passage as one text: sentences side by side, list items with the list's separator."""
    first = first.rstrip()
    if first.endswith(("。", "！", "？", ".", "!", "?")):
        return first + ("" if lang == "ja" else " ") + then
    return first + ("、" if lang == "ja" else "; ") + then


def _asks(text: str) -> bool:
    return text.rstrip().endswith(("?", "？"))


def points_back(text: str) -> bool:
    return bool(_DEMONSTRATIVE.match(text.strip()))


def with_antecedent(chunk_index: int, unit: int, store: IndexStore) -> str:
    """The unit's text, after the unit before it when it opens with a demonstrative."""
    units = store.chunks[chunk_index].units
    text = units[unit]
    if unit > 0 and points_back(text) and not _asks(units[unit - 1]):
        return _join(units[unit - 1], text, store.chunks[chunk_index].lang)
    return text


def with_lead(chunk_index: int, unit: int, store: IndexStore) -> str:
    """The unit's text after its passage's first sentence, which names what it is about."""
    chunk = store.chunks[chunk_index]
    if unit == 0 or _asks(chunk.units[0]):
        return chunk.units[unit]
    return _join(chunk.units[0], chunk.units[unit], chunk.lang)


def announces_list(chunk_index: int, unit: int, store: IndexStore) -> bool:
    """The unit is the last sentence of a paragraph that a list follows."""
    chunk = store.chunks[chunk_index]
    if chunk.kind == "bullet" or unit != len(chunk.units) - 1:
        return False
    order = store.doc_chunks(chunk.doc, chunk.lang)
    position = order.index(chunk_index)
    return position + 1 < len(order) and store.chunks[order[position + 1]].kind == "bullet"
