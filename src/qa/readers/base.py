"""The reader interface every reader shares: retrieved passages in, a draft answer out.

A reader writes sentences, each citing the chunks that support it. It never numbers
citations, attaches twins or conflict notes: the chain renders a ``Draft`` into an
``Answer`` the same way for every reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from qa.index import IndexStore
    from qa.query import Query
    from qa.retriever import Hit


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer and the chunks (store indices) it cites; ``attributed`` when it needs no
    "according to <commentary>" before it (a model wrote it, or an earlier sentence already says so)."""

    text: str
    chunks: tuple[int, ...]
    doc: str
    attributed: bool = False


@dataclass
class Draft:
    """A reader's answer before citations are numbered; ``reader`` names the reader that wrote it."""

    sentences: list[Sentence] = field(default_factory=list)
    abstained: bool = False
    reason: str = ""
    reader: str = "extractive"
    brief: bool = False  # a section or a document in brief, not one fact
    computed: bool = False  # opens with a total or a comparison computed by code from the items it cites


@dataclass(frozen=True)
class ReadRequest:
    """What a reader is given: the understood question, the passages it may cite (best first), the index
    they come from, and the extractive draft (what the extractive checks already decided)."""

    query: Query
    hits: list[Hit]
    store: IndexStore
    baseline: Draft


class Reader(Protocol):
    """Turns retrieved passages into a draft answer."""

    name: str

    def read(self, request: ReadRequest, config: RunnableConfig | None = None) -> Draft:
        """The finished draft."""
        ...

    def stream(self, request: ReadRequest, config: RunnableConfig | None = None) -> Iterator[str | Draft]:
        """Text as it is produced (``str`` pieces), then the finished, checked ``Draft`` as the last item."""
        ...
