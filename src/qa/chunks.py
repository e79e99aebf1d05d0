"""Chunks: the retrievable, citable units made from corpus blocks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from qa.corpus import Block
from qa.numbers import MONEY_PREFIXES
from qa.text import clauses, detect_language, plain, sentences, tokens

SECTION_SEPARATOR = " > "
MAX_CHUNK_CHARS = {"ja": 450, "en": 1200}  # well inside multilingual-e5's 512 tokens
SUPPORT_SHARE = 0.8  # a fact-sheet passage backs an article sentence: all its amounts, this share of its terms
_AMOUNT = (*MONEY_PREFIXES, "pct:")


@dataclass(frozen=True)
class Chunk:
    """A block, or a sentence group of a long block, with its citation metadata."""

    chunk_id: str
    doc: str
    lang: str
    section: str
    position: int
    part: int
    kind: str
    text: str
    twin_id: str
    units: tuple[str, ...] = field(default=())
    opening: bool = False  # under the document's title alone, before its first section heading

    @cached_property
    def block_key(self) -> str:
        """The id shared by a chunk and its twin in the other language."""
        return f"{self.doc}.{self.position:04d}.{self.part}"

    @cached_property
    def foreign(self) -> bool:
        """Written in the other language (a title quoted as it was published): its twin says the same."""
        return detect_language(plain(self.text)) != self.lang

    @property
    def embed_text(self) -> str:
        """What the embedder reads: heading path, then the passage without markup."""
        return f"{self.section}: {plain(self.text)}"

    @cached_property
    def content_hash(self) -> str:
        """Changes with the text, and with how it is cut into answer units and lexical tokens."""
        recipe = "\n".join((self.section, self.text, *self.units, " ".join(tokens(self.section + " " + self.text))))
        return hashlib.sha256(recipe.encode()).hexdigest()[:16]

    def metadata(self) -> dict[str, str | int | bool]:
        return {
            "doc": self.doc, "lang": self.lang, "section": self.section, "position": self.position,
            "part": self.part, "kind": self.kind, "twin_id": self.twin_id, "hash": self.content_hash,
            "block_key": self.block_key, "faq": self.kind == "faq",
        }


def _parts(block: Block) -> list[str]:
    """The block's text, cut at sentence ends into pieces no longer than the size limit."""
    limit = MAX_CHUNK_CHARS[block.lang]
    if len(block.text) <= limit:
        return [block.text]
    joiner = "" if block.lang == "ja" else " "
    parts: list[str] = []
    for sentence in sentences(block.text, block.lang):
        if parts and len(parts[-1]) + len(sentence) < limit:
            parts[-1] += joiner + sentence
        else:
            parts.append(sentence)
    return parts


def chunk_id(doc: str, lang: str, position: int, part: int) -> str:
    return f"{doc}.{lang}.{position:04d}" + (f".{part}" if part else "")


def units_of(text: str, lang: str) -> tuple[str, ...]:
    """The answerable units of a passage: its sentences, and the items of list-like ones."""
    return tuple(c for s in sentences(plain(text), lang) for c in clauses(s, lang))


def make_chunks(blocks_by_doc: dict[tuple[str, str], list[Block]]) -> list[Chunk]:
    """Chunk every document; twins share doc, position and part."""
    parts = {(b.doc, b.lang, b.position): _parts(b) for blocks in blocks_by_doc.values() for b in blocks}
    chunks: list[Chunk] = []
    for (doc, lang), blocks in sorted(blocks_by_doc.items()):
        other = "en" if lang == "ja" else "ja"
        for block in blocks:
            twin_parts = parts.get((doc, other, block.position), [])
            for part, text in enumerate(parts[(doc, lang, block.position)]):
                twin = chunk_id(doc, other, block.position, min(part, len(twin_parts) - 1)) if twin_parts else ""
                chunks.append(
                    Chunk(
                        chunk_id=chunk_id(doc, lang, block.position, part), doc=doc, lang=lang,
                        section=SECTION_SEPARATOR.join(block.section), position=block.position, part=part,
                        kind=block.kind, text=text, twin_id=twin, units=units_of(text, lang),
                        opening=block.section == (block.title,),
                    )
                )
    return chunks


def primary_support(chunks: list[Chunk], primary: str) -> dict[str, tuple[str, ...]]:
    """For each commentary chunk, per answer unit, the id of the ``primary`` document's passage (same
    language) whose text holds the unit's facts: all its amounts and ``SUPPORT_SHARE`` of its terms
    ("" where none does)."""
    passages = [(c.chunk_id, c.lang, frozenset(t for u in c.units for t in tokens(u)))
                for c in chunks if c.doc == primary]
    support: dict[str, tuple[str, ...]] = {}
    for chunk in chunks:
        if chunk.doc == primary:
            continue
        found = []
        for unit in chunk.units:
            terms = frozenset(tokens(unit))
            amounts = {t for t in terms if t.startswith(_AMOUNT)}
            best, best_share = "", SUPPORT_SHARE
            for chunk_id, lang, passage in passages:
                share = len(terms & passage) / len(terms) if terms else 0.0
                if lang == chunk.lang and amounts <= passage and (share > best_share or not best and share == best_share):
                    best, best_share = chunk_id, share
            found.append(best)
        support[chunk.chunk_id] = tuple(found)
    return support
