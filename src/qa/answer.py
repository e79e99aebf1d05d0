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
    topic: str
    blog: str
    factsheet: str


@dataclass
class Answer:
    question: str
    language: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Exactly the contract's answer JSON (plus the extra ``twin`` fields on citations)."""
        return {
            "question": self.question,
            "language": self.language,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [asdict(c) for c in self.citations],
            "conflicts": [asdict(c) for c in self.conflicts],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
