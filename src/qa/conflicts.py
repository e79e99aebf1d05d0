"""Where a commentary document says something different from the primary one (``corpus/conflicts.json``).

Each entry names the blocks of both documents it concerns and what each says, by document id::

    {"topic": {"ja": ..., "en": ...},
     "blocks": {"<commentary id>": ["<id>.0028.0"], "<primary id>": ["<id>.0018.0"]},
     "says": {"<commentary id>": {"ja": ..., "en": ...}, "<primary id>": {"ja": ..., "en": ...}}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.answer import Conflict
from qa.corpus import CorpusError
from qa.manifest import Manifest

CONFLICTS_NAME = "conflicts.json"


@dataclass(frozen=True)
class ConflictNote:
    """One point where a commentary document and the primary document disagree."""

    topic: dict[str, str]
    commentary_doc: str
    primary_doc: str
    commentary_blocks: frozenset[str]
    primary_blocks: frozenset[str]
    commentary: dict[str, str]
    primary: dict[str, str]

    def applies(self, cited_blocks: set[str], retrieved_blocks: set[str]) -> bool:
        """The answer cites a block of either side, and the commentary's side was retrieved."""
        return bool(cited_blocks & (self.primary_blocks | self.commentary_blocks)
                    and self.commentary_blocks & retrieved_blocks)

    def conflict(self, lang: str) -> Conflict:
        return Conflict(self.topic[lang], self.commentary[lang], self.primary[lang],
                        commentary_doc=self.commentary_doc, primary_doc=self.primary_doc)


def _note(entry: dict[str, Any], manifest: Manifest, path: Path) -> ConflictNote:
    primary = manifest.primary.id
    try:
        commentary = next(doc for doc in entry["blocks"] if doc != primary)
        return ConflictNote(entry["topic"], commentary, primary, frozenset(entry["blocks"][commentary]),
                            frozenset(entry["blocks"][primary]), entry["says"][commentary], entry["says"][primary])
    except (KeyError, StopIteration, TypeError) as err:
        raise CorpusError(f"{path}: an entry needs 'topic', and 'blocks' and 'says' for the primary document "
                          f"{primary!r} and one commentary document ({err!r} in {str(entry)[:80]})") from None


def load_conflicts(corpus_dir: Path, manifest: Manifest) -> list[ConflictNote]:
    """The corpus's conflict notes; none when it has no ``conflicts.json``."""
    path = corpus_dir / CONFLICTS_NAME
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CorpusError(f"{path}: cannot be read as JSON ({err})") from None
    return [_note(entry, manifest, path) for entry in entries]


def disputed_blocks(notes: list[ConflictNote]) -> dict[str, frozenset[str]]:
    """Each commentary block the primary document contradicts, with the primary blocks that say otherwise."""
    disputed: dict[str, frozenset[str]] = {}
    for note in notes:
        for block in note.commentary_blocks:
            disputed[block] = disputed.get(block, frozenset()) | note.primary_blocks
    return disputed
