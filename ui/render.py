"""HTML for answers and sources. Every piece of corpus text or user text is escaped here."""

from __future__ import annotations

import html
import re

from qa.answer import Answer, Citation
from qa.text import plain

DOC_NAMES = {"factsheet": {"en": "Fact sheet", "ja": "ファクトシート"}, "blog": {"en": "Blog", "ja": "解説記事"}}
TWIN_LABELS = {"en": {"ja": "Japanese original", "en": "English rendering"}, "ja": {"ja": "日本語原文", "en": "英語訳"}}
LABELS = {
    "en": {"sources": "Sources", "conflict": "The article and the fact sheet differ",
           "blog": "Article", "factsheet": "Fact sheet", "abstain": "Not in the documents"},
    "ja": {"sources": "出典", "conflict": "解説記事とファクトシートで記述が異なります",
           "blog": "解説記事", "factsheet": "ファクトシート", "abstain": "資料に記載なし"},
}
_MARKER = re.compile(r"\[(\d+)\]")


def _highlight(passage: str, answer: str) -> str:
    """The passage (escaped) with the parts the answer quotes wrapped in <mark>."""
    text = plain(passage)
    spans: list[tuple[int, int]] = []
    for sentence in re.split(r"\[\d+\]|(?<=[。])", _MARKER.sub(lambda m: f"[{m.group(1)}]", answer)):
        piece = sentence.strip().strip("。.").strip()
        for prefix in ("According to the article, ", "解説記事によると、"):
            piece = piece.removeprefix(prefix)
        if len(piece) < 4:
            continue
        start = text.lower().find(piece.lower())
        if start >= 0:
            spans.append((start, start + len(piece)))
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(html.escape(text[last:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def source_html(citation: Citation, answer_text: str, ui_lang: str) -> str:
    """One footnote: document, section path, the passage with its supporting words, and its twin."""
    name = DOC_NAMES.get(citation.doc, {}).get(ui_lang, citation.doc)
    twin_label = TWIN_LABELS[ui_lang]["ja" if citation.lang == "en" else "en"]
    twin = (
        f'<div class="qa-twin" lang="{"ja" if citation.lang == "en" else "en"}"><div class="qa-label">'
        f"{html.escape(twin_label)}</div>{html.escape(plain(citation.twin_text))}</div>"
        if citation.twin_text else ""
    )
    return (
        f'<details class="qa-source" id="qa-src-{citation.n}">'
        f"<summary>[{citation.n}] {html.escape(name)} — {html.escape(citation.section)}</summary>"
        f'<div class="qa-passages"><div class="qa-passage" lang="{citation.lang}">'
        f'<div class="qa-label">{html.escape(citation.chunk_id)}</div>{_highlight(citation.text, answer_text)}</div>'
        f"{twin}</div></details>"
    ).replace("\n", " ")


def answer_html(answer: Answer, shown_text: str | None = None, final: bool = True) -> str:
    """The whole assistant message: answer with footnote links, conflict notes, sources."""
    lang = answer.language
    labels = LABELS[lang]
    text = answer.answer if shown_text is None else shown_text
    body = _MARKER.sub(
        lambda m: f'<a class="qa-ref" href="#qa-src-{m.group(1)}">[{m.group(1)}]</a>',
        html.escape(text),
    )
    if answer.abstained:
        return f'<div class="qa-abstain"><strong>ⓘ {html.escape(labels["abstain"])}</strong><br>{body}</div>'
    parts = [f'<div class="qa-answer">{body}</div>']
    if final:
        for conflict in answer.conflicts:
            parts.append(
                f'<div class="qa-conflict"><strong>⚠ {html.escape(labels["conflict"])}: {html.escape(conflict.topic)}</strong>'
                f'<br>{html.escape(labels["blog"])}: {html.escape(conflict.blog)}'
                f'<br>{html.escape(labels["factsheet"])}: {html.escape(conflict.factsheet)}</div>'
            )
        if answer.citations:
            parts.append(f'<div class="qa-sources-title">{html.escape(labels["sources"])}</div>')
            parts.extend(source_html(c, answer.answer, lang) for c in answer.citations)
    return "".join(parts)
