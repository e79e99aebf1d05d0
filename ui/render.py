"""HTML and plain text for one conversation turn. Every piece of corpus or user text is escaped here.

Ids inside a message carry the turn's id, so a citation link always opens its own message's passage.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

from qa.ui.strings import t

from qa.answer import Answer, Citation
from qa.manifest import Manifest
from qa.text import plain

MARKER = re.compile(r"\[(\d+)\]")
SECTION_SEPARATOR = " > "  # how the index writes a heading path
SHOWN_SEPARATOR = " › "
_SVG = ('<svg aria-hidden="true" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">{}</svg>')
ICONS = {  # drawn, not emoji, so they show without an emoji font
    "copy": _SVG.format('<rect x="9" y="9" width="13" height="13" rx="2"/><path d="M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 '
                        '2-2h9a2 2 0 0 1 2 2v1"/>'),
    "up": _SVG.format('<path d="M7 10v12M15 5.9 14 10h5.8a2 2 0 0 1 2 2.3l-1.4 8a2 2 0 0 1-2 1.7H7V10l4.6-8a2.6 2.6 '
                      '0 0 1 3.4 3.9z"/>'),
    "down": _SVG.format('<path d="M17 14V2M9 18.1 10 14H4.2a2 2 0 0 1-2-2.3l1.4-8A2 2 0 0 1 5.6 2H17v12l-4.6 8a2.6 '
                        '2.6 0 0 1-3.4-3.9z"/>'),
    "retry": _SVG.format('<path d="M3 12a9 9 0 1 0 3-6.7L3 8"/><path d="M3 3v5h5"/>'),
    "edit": _SVG.format('<path d="M12 20h9"/><path d="M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z"/>'),
}
_ATTRIBUTIONS = re.compile(r"^(According to the [^,]+, |[^、]{1,20}によると、)")


@dataclass(frozen=True)
class Turn:
    """One question and its answer (None while the answer is being written)."""

    id: str
    question: str
    answer: Answer | None = None
    partial: str = ""  # answer text streamed so far
    feedback: str = ""  # "", "up" or "down"
    commented: bool = False


def merge_repeated(answer: Answer) -> Answer:
    """The answer with one number per passage: a citation of a passage (or of its twin in the other
    language) already cited earlier takes that earlier number, and later ones move up."""
    keep: list[Citation] = []
    renumber: dict[int, int] = {}
    seen: dict[str, int] = {}
    for citation in answer.citations:
        known = seen.get(citation.chunk_id) or (seen.get(citation.twin_chunk_id) if citation.twin_chunk_id else None)
        if known:
            renumber[citation.n] = known
            continue
        new_n = len(keep) + 1
        renumber[citation.n] = new_n
        seen[citation.chunk_id] = new_n
        keep.append(replace(citation, n=new_n))
    if all(old == new for old, new in renumber.items()):
        return answer
    text = MARKER.sub(lambda m: f"[{renumber.get(int(m.group(1)), int(m.group(1)))}]", answer.answer)
    text = re.sub(r"(\[\d+\])\1+", r"\1", text)
    return replace(answer, answer=text, citations=keep)


def citation_label(citation: Citation, manifest: Manifest, lang: str) -> str:
    """"<document label> › section › subsection" (plain text)."""
    parts = [manifest.label(citation.doc, lang)]
    parts += [p.strip() for p in citation.section.split(SECTION_SEPARATOR) if p.strip()]
    return SHOWN_SEPARATOR.join(parts)


def copy_text(answer: Answer, manifest: Manifest, lang: str) -> str:
    """The answer as plain text: its [n] markers, then one source line per number."""
    lines = [answer.answer]
    if answer.citations:
        lines += ["", f"{t(lang, 'sources')}:"]
        lines += [f"[{c.n}] {citation_label(c, manifest, lang)}" for c in answer.citations]
    for conflict in answer.conflicts:
        lines += ["", f"{t(lang, 'conflict')}: {conflict.topic}",
                  f"- {manifest.label(conflict.commentary_doc, lang)}: {conflict.commentary}",
                  f"- {manifest.label(conflict.primary_doc, lang)}: {conflict.primary}"]
    return "\n".join(lines)


def passage_anchor(chunk_id: str) -> str:
    """The element id of a passage in the Documents view."""
    return "qa-doc-" + re.sub(r"[^A-Za-z0-9_-]", "-", chunk_id)


def _highlight(passage: str, answer_text: str) -> str:
    """The passage (escaped) with the parts the answer quotes wrapped in <mark>."""
    text = plain(passage)
    spans: list[tuple[int, int]] = []
    for sentence in re.split(r"\[\d+\]|(?<=。)", answer_text):
        piece = _ATTRIBUTIONS.sub("", sentence.strip()).strip().strip("。.").strip()
        if len(piece) < 4:
            continue
        start = text.lower().find(piece.lower())
        if start >= 0:
            spans.append((start, start + len(piece)))
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [html.escape(text[last:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def _body(text: str, turn_id: str) -> str:
    """Escaped answer text whose [n] markers link to this message's sources."""
    return MARKER.sub(lambda m: f'<a class="qa-ref" href="#qa-{turn_id}-src-{m.group(1)}" '
                                f'data-n="{m.group(1)}">[{m.group(1)}]</a>', html.escape(text))


def _sources(answer: Answer, turn_id: str, manifest: Manifest, lang: str) -> str:
    """The source list, grouped by document section: one heading per section, its passages beneath."""
    groups: dict[tuple[str, str], list[Citation]] = {}
    for citation in answer.citations:
        groups.setdefault((citation.doc, citation.section), []).append(citation)
    out = [f'<div class="qa-sources"><div class="qa-sources-title">{html.escape(t(lang, "sources"))}</div>']
    for citations in groups.values():
        numbers = "".join(f"[{c.n}]" for c in citations)
        out.append(f'<div class="qa-source-group"><div class="qa-source-label">{numbers} '
                   f"{html.escape(citation_label(citations[0], manifest, lang))}</div>")
        for c in citations:
            twin_lang = "en" if c.lang == "ja" else "ja"
            twin = (f'<div class="qa-twin" lang="{twin_lang}"><div class="qa-label">'
                    f'{html.escape(t(lang, "twin_" + twin_lang))}</div>{html.escape(plain(c.twin_text))}</div>'
                    if c.twin_text else "")
            out.append(
                f'<details class="qa-source" id="qa-{turn_id}-src-{c.n}"><summary>[{c.n}] '
                f"{html.escape(plain(c.text)[:80])}{'…' if len(plain(c.text)) > 80 else ''}</summary>"
                f'<div class="qa-passages"><div class="qa-passage" lang="{html.escape(c.lang)}">'
                f"{_highlight(c.text, answer.answer)}</div>{twin}</div>"
                f'<button type="button" class="qa-doclink" data-target="{passage_anchor(c.chunk_id)}" '
                f'data-lang="{html.escape(c.lang)}">{html.escape(t(lang, "open_in_document"))}</button></details>')
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def _conflicts(answer: Answer, manifest: Manifest, lang: str) -> str:
    return "".join(
        f'<div class="qa-conflict" role="note"><strong>⚠ {html.escape(t(lang, "conflict"))}: '
        f"{html.escape(c.topic)}</strong><br>{html.escape(manifest.label(c.commentary_doc, lang))}: "
        f"{html.escape(c.commentary)}<br>{html.escape(manifest.label(c.primary_doc, lang))}: "
        f"{html.escape(c.primary)}</div>"
        for c in answer.conflicts)


def _reader_note(answer: Answer, lang: str) -> str:
    text = (t(lang, "reader_extractive") if answer.reader == "extractive"
            else t(lang, "reader_model", name=answer.reader))
    return f'<span class="qa-reader" data-reader="{html.escape(answer.reader)}">{html.escape(text)}</span>'


def _actions(turn: Turn, copy: str, lang: str, last: bool) -> str:
    """Copy, feedback and (on the last answer) retry and edit buttons, with the optional comment box."""
    def button(cls: str, key: str, icon: str, extra: str = "") -> str:
        label = html.escape(t(lang, key))
        return (f'<button type="button" class="qa-action {cls}" aria-label="{label}" title="{label}" '
                f'data-turn="{turn.id}"{extra}>{icon}</button>')

    copied = f' data-copy="{html.escape(copy)}" data-done="{html.escape(t(lang, "copied"))}"'
    parts = [button("qa-copy", "copy", ICONS["copy"], copied)]
    for rating, key in (("up", "helpful"), ("down", "not_helpful")):
        pressed = "true" if turn.feedback == rating else "false"
        parts.append(button("qa-vote", key, ICONS[rating], f' data-rating="{rating}" aria-pressed="{pressed}"'))
    if last:
        parts += [button("qa-retry", "retry", ICONS["retry"]), button("qa-edit", "edit", ICONS["edit"])]
    out = f'<div class="qa-actions">{"".join(parts)}</div>'
    if turn.feedback and not turn.commented:
        label = html.escape(t(lang, "comment"))
        out += (f'<div class="qa-feedback" data-turn="{turn.id}"><p>{html.escape(t(lang, "thanks"))}</p>'
                f'<textarea class="qa-comment" maxlength="1000" rows="2" aria-label="{label}" placeholder="{label}">'
                f'</textarea><button type="button" class="qa-comment-send" data-turn="{turn.id}">'
                f'{html.escape(t(lang, "send_comment"))}</button></div>')
    elif turn.commented:
        out += f'<div class="qa-feedback"><p>{html.escape(t(lang, "comment_saved"))}</p></div>'
    return out


def turn_html(turn: Turn, manifest: Manifest, lang: str, last: bool = False) -> str:
    """The user's message and the assistant's (finished or still being written) for one turn."""
    question = html.escape(turn.question)
    user = (f'<div class="qa-msg qa-user" role="article" aria-label="{html.escape(t(lang, "you"))}: {question}">'
            f'<div class="qa-bubble">{question}</div></div>')
    answer = turn.answer
    if answer is None:
        shown = (html.escape(turn.partial) if turn.partial  # [n] become links once the sources are there
                 else f'<span class="qa-writing">{html.escape(t(lang, "writing"))}</span>')
        bot = (f'<div class="qa-msg qa-bot qa-pending" id="qa-{turn.id}" role="article" aria-busy="true" '
               f'aria-label="{html.escape(t(lang, "assistant"))}: {html.escape(turn.partial)}">'
               f'<div class="qa-answer">{shown}</div></div>')
        return user + bot
    copy = copy_text(answer, manifest, lang)
    if answer.abstained:
        content = (f'<div class="qa-abstain" role="note"><strong>ⓘ {html.escape(t(lang, "abstain"))}</strong><br>'
                   f"{_body(answer.answer, turn.id)}</div>")
    else:
        content = (f'<div class="qa-answer" lang="{html.escape(answer.language)}">{_body(answer.answer, turn.id)}</div>'
                   + _conflicts(answer, manifest, lang) + _sources(answer, turn.id, manifest, lang))
    bot = (f'<div class="qa-msg qa-bot" id="qa-{turn.id}" role="article" data-turn="{turn.id}" '
           f'aria-label="{html.escape(t(lang, "assistant"))}: {html.escape(copy)}">{content}'
           f'<div class="qa-meta">{_reader_note(answer, lang)}{_actions(turn, copy, lang, last)}</div></div>')
    return user + bot
