"""The corpus manifest: which document is primary, which is commentary, their names, titles and dates.

``corpus/manifest.json`` (see the bundled one) lists every document id with its role.
Code asks the manifest for roles and display names and never assumes a document id.
A corpus without a manifest gets one made from its files: the first document (by name)
is primary, the others commentary, each named by its id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from qa.corpus import LANGUAGES, CorpusError
from qa.text import key_terms, normalize

MANIFEST_NAME = "manifest.json"
ROLES = ("primary", "commentary")


@dataclass(frozen=True)
class DocumentInfo:
    """One document of the corpus: its id, role and what a reader is shown about it."""

    id: str
    role: str
    name: dict[str, str]
    title: dict[str, str] = field(default_factory=dict)
    date: str = ""
    publisher: dict[str, str] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()  # what askers call it, in any language ("the article", "記事")

    @property
    def primary(self) -> bool:
        return self.role == "primary"

    def label(self, lang: str) -> str:
        """The document's display name in ``lang`` ("Plan", "社説")."""
        return self.name.get(lang) or next(iter(self.name.values()), self.id)

    def attribution(self, lang: str) -> str:
        """What an answer says before a sentence taken from this document ("According to the article, ")."""
        name = self.label(lang)
        return f"{name}によると、" if lang == "ja" else f"According to the {name[:1].lower()}{name[1:]}, "


@dataclass(frozen=True)
class Manifest:
    """The documents of a corpus, primary first."""

    documents: tuple[DocumentInfo, ...]

    def __post_init__(self) -> None:
        if sum(d.primary for d in self.documents) != 1:
            raise CorpusError(f"the corpus manifest needs exactly one primary document, not "
                              f"{[d.id for d in self.documents if d.primary]}")

    @property
    def primary(self) -> DocumentInfo:
        return next(d for d in self.documents if d.primary)

    @property
    def commentary(self) -> tuple[DocumentInfo, ...]:
        return tuple(d for d in self.documents if not d.primary)

    def get(self, doc_id: str) -> DocumentInfo:
        for document in self.documents:
            if document.id == doc_id:
                return document
        raise KeyError(doc_id)

    def is_primary(self, doc_id: str) -> bool:
        return doc_id == self.primary.id

    def label(self, doc_id: str, lang: str) -> str:
        try:
            return self.get(doc_id).label(lang)
        except KeyError:
            return doc_id

    def mentions(self, question: str) -> list[tuple[DocumentInfo, str]]:
        """Each document a question names and the name or alias it uses ("according to the article")."""
        text = normalize(question)
        return [(d, alias) for d in self.documents for alias in (*d.name.values(), *d.aliases)
                if _mentions(text, normalize(alias))]

    def named_in(self, question: str) -> str:
        """The id of the one document a question asks about by name ("according to the article, …"), or ""."""
        named = {d.id for d, _alias in self.mentions(question)}
        return next(iter(named)) if len(named) == 1 else ""

    def reference_terms(self, question: str) -> frozenset[str]:
        """The terms of every document name or alias a question uses ("according to the fact sheet" →
        fact, sheet): they say where to look, not what is asked, so no passage needs to hold them."""
        return frozenset(term for _d, alias in self.mentions(question) for term in key_terms(alias))

    def abstain_text(self, lang: str) -> str:
        """The answer given when the documents do not answer, naming them."""
        names = [d.label(lang) for d in self.documents]
        if lang == "ja":
            return f"資料({'と'.join(names)})には、この質問に答える記述が見当たりません。"
        listed = " and ".join(f"the {n[:1].lower()}{n[1:]}" for n in names)
        return f"The documents ({listed}) do not answer this question."


def _mentions(text: str, alias: str) -> bool:
    """``alias`` occurs in ``text``: as whole words when it is written in Latin letters."""
    if alias.isascii():
        return re.search(rf"\b{re.escape(alias)}s?\b", text) is not None
    return alias in text


def _localised(value: object, source: Path, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {lang: value for lang in LANGUAGES}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return dict(value)
    raise CorpusError(f"{source}: '{key}' must be text or {{lang: text}}, not {value!r}")


def _localised_lists(value: object, source: Path) -> list[list[str]]:
    if value is None:
        return []
    if isinstance(value, dict) and all(isinstance(v, list) and all(isinstance(a, str) for a in v)
                                       for v in value.values()):
        return list(value.values())
    raise CorpusError(f"{source}: 'aliases' must be {{lang: [names]}}, not {value!r}")


def _document(entry: object, source: Path) -> DocumentInfo:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise CorpusError(f"{source}: every document needs an 'id': {entry!r}")
    role = entry.get("role", "commentary")
    if role not in ROLES:
        raise CorpusError(f"{source}: document {entry['id']!r} has role {role!r}; expected one of {ROLES}")
    return DocumentInfo(
        id=entry["id"], role=role,
        name=_localised(entry.get("name"), source, "name") or {lang: entry["id"] for lang in LANGUAGES},
        title=_localised(entry.get("title"), source, "title"),
        date=str(entry.get("date", "")),
        publisher=_localised(entry.get("publisher"), source, "publisher"),
        origin=_localised(entry.get("origin"), source, "origin"),
        aliases=tuple(a for names in _localised_lists(entry.get("aliases"), source) for a in names),
    )


def manifest_json(manifest: Manifest) -> dict[str, object]:
    """``manifest`` in the shape of ``manifest.json``: ``load_manifest`` reads it back unchanged."""
    return {"documents": [
        {"id": d.id, "role": d.role, "name": d.name, "title": d.title, "date": d.date, "publisher": d.publisher,
         "origin": d.origin, "aliases": {"any": list(d.aliases)}}
        for d in manifest.documents
    ]}


@lru_cache(maxsize=8)
def load_manifest(corpus_dir: Path) -> Manifest:
    """The manifest of ``corpus_dir``; one made from its files when it has none."""
    path = corpus_dir / MANIFEST_NAME
    if not path.is_file():
        ids = sorted({p.stem for lang in LANGUAGES for p in (corpus_dir / lang).glob("*.md")})
        if not ids:
            raise CorpusError(f"{corpus_dir}: no corpus files and no {MANIFEST_NAME}")
        return Manifest(tuple(DocumentInfo(i, "primary" if n == 0 else "commentary", {lang: i for lang in LANGUAGES})
                              for n, i in enumerate(ids)))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CorpusError(f"{path}: cannot be read as JSON ({err})") from None
    entries = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CorpusError(f"{path}: expected {{\"documents\": [...]}} with at least one document")
    return Manifest(tuple(sorted((_document(e, path) for e in entries), key=lambda d: not d.primary)))
