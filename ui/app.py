"""The Gradio chat: streamed, cited answers in the asker's language, a Sources view, an API endpoint."""

from __future__ import annotations

import html
import ipaddress
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from qa.answer import Answer
from qa.chain import QAChain, build_chain
from qa.embeddings import EmbedderError
from qa.index import IndexMissingError, redact_url
from qa.query import QuestionError
from qa.ui.render import answer_html

CONCURRENCY = 2  # one answer per core; answers take tens of milliseconds
EXAMPLES = [
    "フジクラの投資額は？",
    "How much will Japan invest in critical energy infrastructure?",
    "東京ガスとJERAはアラスカ産LNGの契約を結んだのですか？",
    "What will Toyota do?",
    "シャドーフリートへの対応は？",
    "Which areas of technology cooperation were named?",
]
TEXT = {
    "en": {"title": "US–Japan framework Q&A", "ask": "Ask", "clear": "Clear", "placeholder":
           "Ask about the 2025 US–Japan summit and fact sheet (English or 日本語)", "chat": "Chat",
           "sources": "Sources", "examples": "Examples", "intro":
           "Answers come from the White House fact sheet (and the article, where marked). Click [n] to see the passage."},
    "ja": {"title": "日米協力枠組み Q&A", "ask": "質問する", "clear": "クリア", "placeholder":
           "2025年日米首脳会談とファクトシートについて質問してください(日本語 / English)", "chat": "チャット",
           "sources": "出典一覧", "examples": "質問例", "intro":
           "回答はホワイトハウスのファクトシート(記載のある場合は解説記事)に基づきます。[n] をクリックすると該当箇所を表示します。"},
}
CSS = """
.qa-answer { font-size: 1.05em; }
.qa-abstain { border-left: 4px solid #888; background: #f3f3f3; padding: .5em .8em; color: #333; }
.qa-conflict { border-left: 4px solid #d98c00; background: #fff6e0; padding: .5em .8em; margin-top: .6em; }
.qa-sources-title { margin-top: .8em; font-weight: 600; }
.qa-source summary { cursor: pointer; }
.qa-passages { display: flex; gap: 1em; flex-wrap: wrap; }
.qa-passage, .qa-twin { flex: 1 1 18em; padding: .4em .6em; background: #fafafa; border-radius: 4px; }
.qa-label { font-size: .8em; color: #666; }
.qa-passage mark { background: #ffe58a; }
"""
HEAD = """
<script>
document.addEventListener('click', (event) => {
  const ref = event.target.closest && event.target.closest('a.qa-ref');
  if (!ref) return;
  event.preventDefault();
  const message = ref.closest('.message-wrap, .bubble-wrap, body') || document;
  const boxes = message.querySelectorAll(ref.getAttribute('href'));
  const box = boxes[boxes.length - 1];
  if (box) { box.open = true; box.scrollIntoView({block: 'nearest'}); }
});
</script>
"""


def _chunks_of(text: str, lang: str) -> Iterator[str]:
    """Growing prefixes of the answer, for streaming it in."""
    pieces = re.findall(r"\S+\s*", text) if lang == "en" else re.findall(r".{1,6}", text, re.S)
    shown = ""
    for piece in pieces:
        shown += piece
        yield shown


class ChatApp:
    """One chain per process, shared by every session."""

    def __init__(self, chain: QAChain) -> None:
        self.chain = chain

    def answer(self, question: str, history: list[dict]) -> Answer:
        return self.chain.invoke({"question": question, "history": history})

    def api(self, question: str, history: list[dict] | None = None) -> dict:
        """The answer JSON for ``question`` (the contract's shape); errors come back as ``{"error": ...}``."""
        try:
            return self.answer(question, history or []).to_dict()
        except (QuestionError, IndexMissingError, EmbedderError) as err:
            return {"error": str(err)}

    def respond(self, question: str, display: list[dict], history: list[dict], ui_lang: str):
        """Stream one turn: the user's message, the growing answer, then the answer with its sources.

        Yields (chat messages, conversation, cleared input box, interface language).
        """
        try:
            answer = self.answer(question, history)
        except (QuestionError, IndexMissingError, EmbedderError) as err:
            note = {"role": "assistant", "content": f'<div class="qa-abstain">{html.escape(str(err))}</div>'}
            asked = [{"role": "user", "content": html.escape(question)}] if question.strip() else []
            yield display + asked + [note], history, "", ui_lang
            return
        lang = answer.language
        user = {"role": "user", "content": html.escape(answer.question)}
        turn = [*history, {"role": "user", "content": answer.question}, {"role": "assistant", "content": answer.answer}]
        for shown in _chunks_of(answer.answer, lang):
            yield display + [user, {"role": "assistant", "content": answer_html(answer, shown, final=False)}], history, "", lang
        yield display + [user, {"role": "assistant", "content": answer_html(answer)}], turn, "", lang

    def sources_markdown(self) -> str:
        """The documents, their sections, and the settings in force."""
        store = self.chain.index.get()
        settings = self.chain.settings
        sections: dict[tuple[str, str], dict[str, int]] = {}
        for chunk in store.chunks:
            sections.setdefault((chunk.doc, chunk.lang), {})
            sections[(chunk.doc, chunk.lang)][chunk.section] = sections[(chunk.doc, chunk.lang)].get(chunk.section, 0) + 1
        lines = ["### Settings / 設定", "",
                 f"- Embedder: `{settings.embedder}`",
                 f"- Answering: `{_redact_llm(settings.llm) or 'extractive (no language model)'}`",
                 f"- Retrieval: `{settings.retrieval}` (dense + BM25, both languages, reciprocal rank fusion)",
                 f"- Index: `{store.version}` — {len(store.chunks)} chunks"
                 + (f", Chroma server `{redact_url(settings.chroma_url)}`" if settings.chroma_url else ""), ""]
        for (doc, lang), by_section in sorted(sections.items()):
            lines += [f"### {'Fact sheet' if doc == 'factsheet' else 'Blog'} ({lang})", ""]
            lines += [f"- {html.escape(section)} ({count})" for section, count in by_section.items()]
            lines.append("")
        return "\n".join(lines)


def _redact_llm(spec: str) -> str:
    """``openai:<model>@<base url>`` without credentials in the URL."""
    head, at, url = spec.partition("@")
    return head + at + redact_url(url) if at else spec


def build_app(chain: QAChain | None = None) -> gr.Blocks:
    """The Gradio Blocks app over ``chain`` (the default chain when None)."""
    app = ChatApp(chain or build_chain())
    with gr.Blocks(title="US–Japan framework Q&A") as demo:
        history = gr.State([])
        ui_lang = gr.Radio(["ja", "en"], value="ja", label="表示言語 / Language", elem_id="qa-lang")
        title = gr.Markdown(f"## {TEXT['ja']['title']}\n{TEXT['ja']['intro']}", elem_id="qa-title")
        with gr.Tab(TEXT["ja"]["chat"], elem_id="qa-chat-tab") as chat_tab:
            chatbot = gr.Chatbot(elem_id="qa-chatbot", height=520, sanitize_html=True, render_markdown=False,
                                 group_consecutive_messages=False)
            with gr.Row():
                box = gr.Textbox(placeholder=TEXT["ja"]["placeholder"], show_label=False, scale=8, elem_id="qa-input")
                ask = gr.Button(TEXT["ja"]["ask"], variant="primary", scale=1, elem_id="qa-ask")
                clear = gr.Button(TEXT["ja"]["clear"], scale=1, elem_id="qa-clear")
            gr.Examples(EXAMPLES, inputs=box, label=TEXT["ja"]["examples"])
        with gr.Tab(TEXT["ja"]["sources"], elem_id="qa-sources-tab") as sources_tab:
            gr.Markdown(app.sources_markdown(), elem_id="qa-sources")

        for trigger in (box.submit, ask.click):
            trigger(app.respond, [box, chatbot, history, ui_lang], [chatbot, history, box, ui_lang],
                    api_visibility="private")
        clear.click(lambda: ([], [], ""), None, [chatbot, history, box], api_visibility="private")

        def relabel(lang: str):
            t = TEXT[lang]
            return (gr.update(value=f"## {t['title']}\n{t['intro']}"), gr.update(placeholder=t["placeholder"]),
                    gr.update(value=t["ask"]), gr.update(value=t["clear"]), gr.update(label=t["chat"]),
                    gr.update(label=t["sources"]))

        ui_lang.change(relabel, ui_lang, [title, box, ask, clear, chat_tab, sources_tab], api_visibility="private")
        gr.api(app.api, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=256)
    return demo


def _auth() -> list[tuple[str, str]] | None:
    """Credentials from QA_AUTH (``user:password``) or QA_AUTH_FILE (one ``user:password`` per line)."""
    entries = []
    if value := os.environ.get("QA_AUTH"):
        entries.append(value)
    if path := os.environ.get("QA_AUTH_FILE"):
        entries += [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [tuple(e.split(":", 1)) for e in entries if ":" in e]
    valid = [(u, p) for u, p in pairs if u and p]
    if len(valid) != len(entries):  # never fall back to no login when one was asked for
        raise ValueError("QA_AUTH / QA_AUTH_FILE entries must look like user:password (both non-empty)")
    return valid or None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch(host: str = "127.0.0.1", port: int = 7860, block: bool = True, chain: Any = None):
    """Start the chat; refuse a non-loopback address unless authentication is configured."""
    try:
        auth = _auth()
    except (OSError, ValueError) as err:
        print(f"qa: {err}", file=sys.stderr)
        return 2
    if not _is_loopback(host) and auth is None:
        print(f"qa: refusing to serve on {host} without authentication; set QA_AUTH=user:password "
              "(or QA_AUTH_FILE=path with user:password lines), or use --host 127.0.0.1", file=sys.stderr)
        return 2
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_app(chain)
    print(f"qa chat on http://{host}:{port}", file=sys.stderr)
    demo.launch(server_name=host, server_port=port, share=False, auth=auth, css=CSS, head=HEAD,
                prevent_thread_lock=not block, quiet=True, show_error=False)
    return 0 if block else demo


if __name__ == "__main__":
    sys.exit(launch(os.environ.get("QA_HOST", "127.0.0.1"), int(os.environ.get("QA_PORT", "7860"))))
