"""The Documents view (every document in full, with its title, date, publisher and origin, section
navigation and an anchor on every passage) and the first screen's "about"."""

from __future__ import annotations

import html
import re
import zlib
from typing import Any

from qa.ui.render import SECTION_SEPARATOR, passage_anchor
from qa.ui.strings import LANGS, t

from qa.index import redact_url
from qa.manifest import DocumentInfo, Manifest
from qa.text import plain


def _field(values: dict[str, str], lang: str) -> str:
    return values.get(lang) or next(iter(values.values()), "")


def _meta(document: DocumentInfo, lang: str) -> str:
    """Title, role, publisher and date of one document, as an escaped line."""
    title = _field(document.title, lang) or document.label(lang)
    role = t(lang, "primary" if document.primary else "commentary")
    publisher = _field(document.publisher, lang)
    published = (t(lang, "published", publisher=publisher, date=document.date) if publisher and document.date
                 else publisher or document.date)
    return (f"<strong>{html.escape(title)}</strong> ({html.escape(document.label(lang))}, {html.escape(role)})"
            + (f" — {html.escape(published)}" if published else ""))


def about_html(manifest: Manifest, reader_name: str | None, lang: str, examples: list[str]) -> str:
    """What the documents are, how answers are made, and example questions that ask when clicked."""
    items = "".join(f"<li>{_meta(d, lang)}</li>" for d in manifest.documents)
    how = t(lang, "about_extractive") if reader_name is None else t(lang, "about_model", name=reader_name)
    chips = "".join(f'<button type="button" class="qa-example" data-question="{html.escape(q)}">'
                    f"{html.escape(q)}</button>" for q in examples)
    examples_block = (f'<div class="qa-examples" role="group" aria-label="{html.escape(t(lang, "examples"))}">'
                      f'<div class="qa-examples-title">{html.escape(t(lang, "examples"))}</div>{chips}</div>'
                      if examples else "")
    return (f'<div class="qa-about"><p>{html.escape(t(lang, "about_docs", n=len(manifest.documents)))}</p>'
            f"<ul>{items}</ul>"
            f'<p>{html.escape(how)} {html.escape(t(lang, "about_language"))}</p></div>{examples_block}')


def _section_id(doc: str, lang: str, path: str) -> str:
    return f"qa-sec-{doc}-{lang}-" + re.sub(r"\W+", "-", path).strip("-")[:60] + f"-{zlib.crc32(path.encode()) % 10**6}"


def _document_text(store: Any, document: DocumentInfo, text_lang: str) -> tuple[str, list[tuple[int, str, str]]]:
    """One document's text in one language with an anchor per passage, and its sections (depth, title, id)."""
    out: list[str] = []
    sections: list[tuple[int, str, str]] = []
    current = None
    for index in store.doc_chunks(document.id, text_lang):
        chunk = store.chunks[index]
        if chunk.section != current:
            current = chunk.section
            parts = [p for p in current.split(SECTION_SEPARATOR) if p.strip()]
            if parts:
                anchor = _section_id(document.id, text_lang, current)
                depth = min(len(parts), 3)
                sections.append((depth, parts[-1], anchor))
                level = depth + 2
                out.append(f'<h{level} id="{anchor}" class="qa-doc-heading">{html.escape(parts[-1])}</h{level}>')
        part = " qa-doc-part" if chunk.part else ""  # a later sentence group of one long paragraph
        out.append(f'<p id="{passage_anchor(chunk.chunk_id)}" class="qa-doc-passage{part}">'
                   f"{html.escape(plain(chunk.text))}</p>")
    return "".join(out), sections


def documents_html(manifest: Manifest, store: Any, lang: str) -> str:
    """Every document in full in both languages (the interface language shown first), with navigation."""
    nav: list[str] = []
    body: list[str] = []
    for document in manifest.documents:
        origin = _field(document.origin, lang)
        texts = []
        for text_lang in LANGS:
            text, sections = _document_text(store, document, text_lang)
            if not text:
                continue
            hidden = "" if text_lang == lang else " hidden"
            texts.append(f'<div class="qa-doc-text" lang="{text_lang}" data-doc="{html.escape(document.id)}"{hidden}>'
                         f"{text}</div>")
            links = "".join(f'<li class="qa-nav-{depth}"><a href="#{anchor}" data-lang="{text_lang}">'
                            f"{html.escape(title)}</a></li>" for depth, title, anchor in sections)
            nav.append(f'<div class="qa-nav-doc" lang="{text_lang}" data-doc="{html.escape(document.id)}"{hidden}>'
                       f'<a href="#qa-docview-{html.escape(document.id)}">{html.escape(document.label(lang))}</a>'
                       f"<ul>{links}</ul></div>")
        switch = "".join(f'<button type="button" class="qa-doc-lang" data-doc="{html.escape(document.id)}" '
                         f'data-lang="{code}" aria-pressed="{"true" if code == lang else "false"}">'
                         f'{html.escape(t(lang, "lang_" + code))}</button>' for code in LANGS)
        body.append(
            f'<article class="qa-doc" id="qa-docview-{html.escape(document.id)}">'
            f"<header><h2>{_meta(document, lang)}</h2>"
            + (f'<p class="qa-origin"><span>{html.escape(t(lang, "origin"))}:</span> {html.escape(origin)}</p>'
               if origin else "")
            + f'<div class="qa-doc-switch" role="group" aria-label="{html.escape(t(lang, "text_in"))}">'
            f'{html.escape(t(lang, "text_in"))}: {switch}</div></header>{"".join(texts)}</article>')
    return (f'<div class="qa-docs"><nav class="qa-docs-nav" aria-label="{html.escape(t(lang, "contents"))}">'
            f'<div class="qa-nav-title">{html.escape(t(lang, "contents"))}</div>{"".join(nav)}</nav>'
            f'<div class="qa-docs-body">{"".join(body)}</div></div>')


def technical_markdown(settings: Any, store: Any, reader_name: str | None) -> str:
    """The settings in force, for whoever runs the chat (credentials in URLs hidden)."""
    llm = settings.llm
    if llm:
        head, at, url = llm.partition("@")
        llm = head + at + redact_url(url) if at else llm
    lines = [f"- Reader: `{reader_name or 'extractive'}`",
             f"- Embedder: `{settings.embedder}`",
             f"- Chat model: `{llm or '-'}`",
             f"- Retrieval: `{settings.retrieval}`",
             f"- Index: `{store.version}` ({len(store.chunks)} passages)"]
    if settings.chroma_url:
        lines.append(f"- Chroma server: `{redact_url(settings.chroma_url)}`")
    return "\n".join(lines)
