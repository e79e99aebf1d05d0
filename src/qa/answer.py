"""The answer object and its contract JSON (see CONTRACT.md)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
    """The passage an answer's ``[n]`` marker points at, and its twin in the other language."""

    n: int
    doc: str
    section: str
    lang: str
    text: str
    chunk_id: str
    twin_text: str = ""
    twin_chunk_id: str = ""


@dataclass(frozen=True)
class Conflict:
    """What a commentary document and the primary document each say on one point; in the answer JSON
    under their document ids (``{"topic", <commentary id>, <primary id>}``)."""

    topic: str
    commentary: str
    primary: str
    commentary_doc: str = "commentary"
    primary_doc: str = "primary"

    def to_dict(self) -> dict[str, str]:
        return {"topic": self.topic, self.commentary_doc: self.commentary, self.primary_doc: self.primary}


@dataclass
class Answer:
    """An answer: its text with ``[n]`` markers, what it cites, the conflicts it touches, and which reader
    wrote it; ``timings`` are milliseconds per stage."""

    question: str
    language: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    reader: str = "extractive"  # the reader that wrote the answer

    def to_dict(self) -> dict[str, Any]:
        """The contract's answer JSON (plus the extra ``twin`` fields on citations and ``reader``)."""
        return {
            "question": self.question,
            "language": self.language,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [asdict(c) for c in self.citations],
            "conflicts": [c.to_dict() for c in self.conflicts],
            "reader": self.reader,
        }

    def to_json(self) -> str:
        """``to_dict()`` as JSON text (UTF-8 characters kept, indented)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


@dataclass
class AnswerChunk:
    """A piece of a streamed answer (``QAChain.stream``/``astream``).

    Every chunk but the last carries ``text`` and no ``answer``; the last carries the complete ``answer``
    (citations, conflicts, reader) and no text. What the text pieces are depends on the reader:

    - the extractive reader: one rendered sentence each, with its ``[n]`` markers and (after the first,
      in English) the space before it, so the pieces join to exactly ``answer.answer``;
    - a language-model reader: its tokens as the model writes them, before any check: markers number the
      passages it was given, and sentences that fail the citation check are still there. If the model
      writes nothing (the extractive answer stands), the pieces are the rendered sentences as above.

    The final ``answer`` is authoritative: show ``answer.answer`` once it arrives. Chunks add up: ``a + b``
    joins the text and keeps the latest ``answer``, so the sum of a stream holds all the text streamed
    and the final ``Answer``.
    """

    text: str = ""
    answer: Answer | None = None

    def __add__(self, other: AnswerChunk) -> AnswerChunk:
        return AnswerChunk(self.text + other.text, other.answer or self.answer)
