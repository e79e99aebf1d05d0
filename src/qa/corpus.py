"""Reading the bilingual corpus: ``corpus/<lang>/<doc>.md`` into structured blocks.

A document is Markdown: ``#`` headings, and blocks (paragraphs, bullets, FAQ
entries) separated by blank lines. The Japanese and English files of one
document are aligned block by block.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("ja", "en")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
_BULLET = re.compile(r"^[–•\-*]\s+")
_FAQ = re.compile(r"^Q(\d+)\s*[:：]")
FAQ_LABEL = re.compile(r"^[QA]\d+\s*[:：]\s*")  # "Q2: " / "A2: " before an FAQ entry's question and answer
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CorpusError(ValueError):
    """A corpus file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Block:
    """One paragraph, bullet or FAQ entry with the headings above it."""

    doc: str
    lang: str
    position: int
    section: tuple[str, ...]
    kind: str  # "paragraph" | "bullet" | "faq"
    text: str
    title: str


def _heading_text(text: str) -> str:
    return text.rstrip(":：").strip()


def parse_document(text: str, doc: str, lang: str, source: str = "<text>") -> list[Block]:
    """Parse one Markdown document into blocks; raise CorpusError naming ``source``."""
    if not text.strip():
        raise CorpusError(f"{source}: the file is empty")
    if match := _BAD_CONTROL.search(text):
        raise CorpusError(f"{source}: control character {match.group(0)!r} at offset {match.start()}")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    headings: dict[int, str] = {}
    blocks: list[Block] = []
    title = ""
    for raw in re.split(r"\n\s*\n", text):
        block = " ".join(line.strip() for line in raw.strip().splitlines())
        if not block:
            continue
        if heading := _HEADING.match(block):
            level = len(heading.group(1))
            headings = {lvl: h for lvl, h in headings.items() if lvl < level}
            headings[level] = _heading_text(heading.group(2))
            title = title or headings[level]
            continue
        if not headings:
            raise CorpusError(f"{source}: text before the first '#' heading: {block[:60]!r}")
        path = tuple(h for lvl, h in sorted(headings.items()) if lvl > 1) or (headings[min(headings)],)
        kind = "faq" if _FAQ.match(block) else "bullet" if _BULLET.match(block) else "paragraph"
        blocks.append(Block(doc, lang, len(blocks), path, kind, block, title))
    if not blocks:
        raise CorpusError(f"{source}: no paragraphs found under the headings")
    return blocks


def read_document(path: Path, lang: str) -> list[Block]:
    """Read and parse ``path`` (strict UTF-8)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise CorpusError(f"{path}: not UTF-8 (byte {err.start}: {err.reason})") from None
    except OSError as err:
        raise CorpusError(f"{path}: cannot be read ({err.strerror})") from None
    return parse_document(text, doc=path.stem, lang=lang, source=str(path))


def corpus_files(corpus_dir: Path) -> dict[tuple[str, str], Path]:
    """``(doc, lang) -> path`` for every ``<lang>/<doc>.md`` under ``corpus_dir``."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"{corpus_dir}: corpus directory not found")
    files = {
        (path.stem, lang): path
        for lang in LANGUAGES
        for path in sorted((corpus_dir / lang).glob("*.md"))
    }
    if not files:
        raise CorpusError(f"{corpus_dir}: no corpus files (expected <lang>/<doc>.md, lang in {LANGUAGES})")
    return files


def read_corpus(corpus_dir: Path) -> dict[tuple[str, str], list[Block]]:
    """Read every document; check that the two languages of a document align."""
    docs = {key: read_document(path, key[1]) for key, path in corpus_files(corpus_dir).items()}
    for (doc, lang), blocks in docs.items():
        other = "en" if lang == "ja" else "ja"
        twin = docs.get((doc, other))
        if lang == "ja" and twin is not None and len(twin) != len(blocks):
            raise CorpusError(
                f"{corpus_dir / 'en' / (doc + '.md')}: {len(twin)} blocks, but its Japanese twin "
                f"{corpus_dir / 'ja' / (doc + '.md')} has {len(blocks)}; the renderings must align block by block"
            )
    return docs
