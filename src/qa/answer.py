"""The answer object and its contract JSON (see CONTRACT.md)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Citation:
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
    under their document ids (``{"topic", "blog", "factsheet"}`` for the bundled corpus)."""

    topic: str
    commentary: str
    primary: str
    commentary_doc: str = "commentary"
    primary_doc: str = "primary"

    def to_dict(self) -> dict[str, str]:
        return {"topic": self.topic, self.commentary_doc: self.commentary, self.primary_doc: self.primary}


@dataclass
class Answer:
    question: str
    language: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    reader: str = "extractive"  # the reader that wrote the answer

    def to_dict(self) -> dict:
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
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


@dataclass
class AnswerChunk:
    """A piece of a streamed answer. ``text`` is answer text not yet shown; the last chunk also carries the
    complete ``answer`` (citations, conflicts). Chunks add up: ``a + b`` joins the text and keeps the
    latest complete answer, so summing a stream gives the whole text and the final ``Answer``."""

    text: str = ""
    answer: Answer | None = None

    def __add__(self, other: "AnswerChunk") -> "AnswerChunk":
        return AnswerChunk(self.text + other.text, other.answer or self.answer)
