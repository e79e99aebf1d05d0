"""The Gradio chat: streamed, cited answers in the asker's language, a Documents view, an API endpoint."""

from __future__ import annotations

import html
import ipaddress
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import gradio as gr
from qa.ui.assets import CHAT_JS, COUNTER_JS, CSS, HEAD, LIVE_JS, SET_LANG_JS
from qa.ui.conversation import history_of, new_turn, stream_turn, turns_from_state, turns_to_state
from qa.ui.documents import about_html, documents_html, technical_markdown
from qa.ui.feedback import FeedbackLog, feedback_path
from qa.ui.render import Turn, turn_html
from qa.ui.strings import LANGS, lang_of, load_examples, t

from qa.chain import QAChain, build_chain
from qa.config import ServeSettings
from qa.embeddings import EmbedderError
from qa.index import IndexMissingError
from qa.query import QuestionError

CONCURRENCY = 2  # one answer per core; answers take tens of milliseconds
SERVICE_ERRORS = (IndexMissingError, EmbedderError)
CONVERSATION_STORE, LANGUAGE_STORE = "qa-conversation", "qa-interface-language"  # browser localStorage names
log = logging.getLogger(__name__)


def _error_html(message: str) -> str:
    return f'<div class="qa-error" role="alert">{html.escape(message)}</div>' if message else ""


def _prime(prime: Any) -> None:
    try:
        prime()
    except Exception as err:  # the reader falls back per answer; a failed warm-up only costs time
        log.warning("the reader's warm-up failed: %s: %s", type(err).__name__, err)


class ChatApp:
    """One chain per process, shared by every session; each session's conversation lives in its browser."""

    def __init__(self, chain: QAChain) -> None:
        self.chain = chain
        self.manifest = chain.manifest
        self.reader_name: str | None = getattr(chain.reader, "name", None)
        self.examples = load_examples(chain.settings.corpus_dir)
        self.feedback = FeedbackLog(feedback_path(chain.settings))
        self.limit = chain.settings.max_question_chars
        self._documents: dict[tuple[str, str], str] = {}

    def warm_up(self) -> None:
        """Let a reader whose model keeps a prompt cache here (the local one) read its fixed prompt starts in
        the background, so the first questions do not pay for them (each model call of theirs waits for at
        most the one start being read)."""
        if getattr(self.chain.reader, "caches_prompts", False):
            threading.Thread(target=_prime, args=(self.chain.reader.prime,), name="qa-prime", daemon=True).start()

    # -- the HTTP API

    def api(self, question: str, history: list[dict] | None = None) -> dict:
        """The answer JSON for ``question`` (the contract's shape); errors come back as ``{"error": ...}``."""
        try:
            return self.chain.invoke({"question": question, "history": history or []}).to_dict()
        except (QuestionError, *SERVICE_ERRORS) as err:
            return {"error": str(err)}

    # -- rendering

    def chat_html(self, turns: list[Turn], lang: str, welcome: bool = True) -> str:
        """The finished turns, or the first screen (about and examples) when there are none and ``welcome``."""
        if not turns and welcome:
            return (f'<div class="qa-log">{about_html(self.manifest, self.reader_name, lang, self.examples[lang])}'
                    "</div>")
        last = len(turns) - 1
        body = "".join(turn_html(turn, self.manifest, lang, last=i == last) for i, turn in enumerate(turns))
        return f'<div class="qa-log" role="log">{body}</div>'

    def live_html(self, turn: Turn, lang: str) -> str:
        """The turn being written: only this is sent again for every streamed chunk."""
        return f'<div class="qa-live" aria-live="polite">{turn_html(turn, self.manifest, lang)}</div>'

    def documents(self, lang: str) -> str:
        """The Documents view for the live index version (rebuilt when the index moves on)."""
        store = self.chain.index.get()
        key = (store.version, lang)
        if key not in self._documents:
            self._documents = {k: v for k, v in self._documents.items() if k[0] == store.version}
            self._documents[key] = documents_html(self.manifest, store, lang)
        return self._documents[key]

    def technical(self) -> str:
        return technical_markdown(self.chain.settings, self.chain.index.get(), self.reader_name)

    def relabel(self, state: Any, lang: Any) -> tuple:
        """Every label in the interface language ``lang``, and the conversation drawn in it."""
        lang = lang_of(lang)
        return (gr.update(value=f"<h1>{html.escape(t(lang, 'page_title'))}</h1>"),
                gr.update(value=lang, label=t(lang, "language")),
                gr.update(label=t(lang, "question"), placeholder=t(lang, "placeholder")),
                gr.update(value=t(lang, "ask")), gr.update(value=t(lang, "clear")),
                gr.update(label=t(lang, "chat")), gr.update(label=t(lang, "documents")),
                self.chat_html(turns_from_state(state), lang), self.documents(lang),
                gr.update(label=t(lang, "technical")), "", lang)

    # -- one turn

    def _validate(self, question: str, lang: str) -> str:
        """The interface-language error for an unusable question, or ""."""
        if not question.strip():
            return t(lang, "err_empty")
        if len(question) > self.limit:
            return t(lang, "err_long", n=len(question), limit=self.limit)
        return ""

    def _run(self, question: str, turns: list[Turn], lang: str, keep_box: bool) -> Iterator[tuple]:
        """Stream one question's answer after ``turns``.

        Yields (finished turns, the turn being written, stored conversation, question box, error, Ask button,
        busy). While it streams only the turn being written changes."""
        box = gr.skip() if keep_box else ""
        if error := self._validate(question, lang):
            ask = gr.update(interactive=bool(question.strip()))
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), _error_html(error), ask, False
            return
        turn = new_turn(question)
        yield (self.chat_html(turns, lang, welcome=False), self.live_html(turn, lang), gr.skip(), box, "",
               gr.update(interactive=False), True)
        try:
            for turn in stream_turn(self.chain, turn, history_of(turns)):
                if turn.answer is None:
                    yield gr.skip(), self.live_html(turn, lang), gr.skip(), gr.skip(), "", gr.skip(), True
                else:  # Ask follows the box once the turn ends (see build_app)
                    shown = [*turns, turn]
                    yield self.chat_html(shown, lang), "", turns_to_state(shown), gr.skip(), "", gr.skip(), False
        except QuestionError as err:
            log.info("question refused: %s", err)
            yield (self.chat_html(turns, lang), "", gr.skip(), question,
                   _error_html(t(lang, "err_question", reason=err)), gr.update(interactive=True), False)
        except SERVICE_ERRORS as err:
            log.error("no answer: %s", err)
            yield (self.chat_html(turns, lang), "", gr.skip(), question,
                   _error_html(t(lang, "err_service", reason=err)), gr.update(interactive=True), False)

    def respond(self, question: str, state: Any, lang: str) -> Iterator[tuple]:
        """The question from the box; on an error the text stays in the box."""
        yield from self._run(question or "", turns_from_state(state), lang_of(lang), keep_box=False)

    def example(self, state: Any, lang: str, event: gr.EventData) -> Iterator[tuple]:
        """An example question, asked as soon as it is clicked."""
        question = str(_event(event).get("question", ""))
        yield from self._run(question, turns_from_state(state), lang_of(lang), keep_box=True)

    def retry(self, state: Any, lang: str) -> Iterator[tuple]:
        """The last question asked again, in place of its answer."""
        turns = turns_from_state(state)
        if not turns:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), "", gr.skip(), False
            return
        yield from self._run(turns[-1].question, turns[:-1], lang_of(lang), keep_box=True)

    def edit(self, state: Any, lang: str) -> tuple:
        """The last question back in the box for editing, its answer removed."""
        turns = turns_from_state(state)
        if not turns:
            return gr.skip(), gr.skip(), gr.skip()
        return self.chat_html(turns[:-1], lang_of(lang)), turns_to_state(turns[:-1]), turns[-1].question

    def vote(self, state: Any, lang: str, event: gr.EventData) -> tuple:
        """Record 👍/👎 for one answer and offer a comment box."""
        data = _event(event)
        return self._feedback(state, lang_of(lang), str(data.get("turn", "")), str(data.get("rating", "")), None)

    def comment(self, state: Any, lang: str, event: gr.EventData) -> tuple:
        """Record the optional comment that follows a vote."""
        data = _event(event)
        return self._feedback(state, lang_of(lang), str(data.get("turn", "")), None, str(data.get("comment", "")))

    def _feedback(self, state: Any, lang: str, turn_id: str, rating: str | None, comment: str | None) -> tuple:
        turns = turns_from_state(state)
        index = next((i for i, turn in enumerate(turns) if turn.id == turn_id), None)
        if index is None:
            log.warning("feedback for a turn this conversation does not hold: %r", turn_id)
            return gr.skip(), gr.skip()
        turn = turns[index]
        if rating is not None:
            turn = replace(turn, feedback=rating, commented=False)
            self.feedback.record(turn, rating, self.manifest)
        elif turn.feedback and comment and comment.strip():
            self.feedback.record(turn, turn.feedback, self.manifest, comment)
            turn = replace(turn, commented=True)
        turns[index] = turn
        return self.chat_html(turns, lang), turns_to_state(turns)

    def clear(self, lang: str) -> tuple:
        """A new conversation: nothing on screen, no follow-up context, an empty box, no answer running."""
        return self.chat_html([], lang_of(lang)), "", [], "", "", gr.update(interactive=False), False


def _event(event: gr.EventData) -> dict:
    data = getattr(event, "_data", None)
    return data if isinstance(data, dict) else {}


def build_app(chain: QAChain | None = None) -> gr.Blocks:
    """The Gradio Blocks app over ``chain`` (the default chain when None)."""
    app = ChatApp(chain or build_chain())
    app.warm_up()
    lang = LANGS[0]
    with gr.Blocks(title=t(lang, "page_title")) as demo:
        stored = gr.BrowserState([], storage_key=CONVERSATION_STORE)
        stored_lang = gr.BrowserState("", storage_key=LANGUAGE_STORE)
        busy = gr.State(False)
        with gr.Row(elem_id="qa-header"):
            heading = gr.HTML(f"<h1>{html.escape(t(lang, 'page_title'))}</h1>", js_on_load=None, elem_id="qa-heading")
            ui_lang = gr.Radio([(t(code, "lang_" + code), code) for code in LANGS], value=lang,
                               label=t(lang, "language"), elem_id="qa-lang", container=False, show_label=False)
            clear = gr.Button(t(lang, "clear"), elem_id="qa-clear", size="sm")
        with gr.Tabs():
            with gr.Tab(t(lang, "chat"), elem_id="qa-chat-tab") as chat_tab:
                # filled on page load, from the conversation and language the browser keeps
                chat = gr.HTML("", js_on_load=CHAT_JS, elem_id="qa-chat")
                live = gr.HTML("", js_on_load=LIVE_JS, elem_id="qa-live")
                with gr.Column(elem_id="qa-composer"):
                    with gr.Row(elem_id="qa-composer-row"):
                        box = gr.Textbox(label=t(lang, "question"), show_label=False,
                                         placeholder=t(lang, "placeholder"), lines=1, max_lines=6, max_length=app.limit, elem_id="qa-input", scale=8)
                        ask = gr.Button(t(lang, "ask"), variant="primary", interactive=False, elem_id="qa-ask")
                    with gr.Row(elem_id="qa-status"):
                        error = gr.HTML("", js_on_load=None, elem_id="qa-error")
                        gr.HTML(f'<span class="qa-count">{t(lang, "counter", n=0, limit=app.limit)}</span>',
                                js_on_load=None, elem_id="qa-counter")
            with gr.Tab(t(lang, "documents"), elem_id="qa-docs-tab") as docs_tab:
                documents = gr.HTML(app.documents(lang), js_on_load=None, elem_id="qa-documents")
                with gr.Accordion(t(lang, "technical"), open=False) as technical:
                    gr.Markdown(app.technical(), elem_id="qa-technical")

        turn_outputs = [chat, live, stored, box, error, ask, busy]
        private = {"api_visibility": "private"}
        def ask_state(text: str, running: bool) -> dict:
            return gr.update(interactive=bool((text or "").strip()) and not running)

        turns_run = [
            gr.on([box.submit, ask.click], app.respond, [box, stored, ui_lang], turn_outputs, trigger_mode="once",
                  concurrency_id="answer", **private),
            chat.example(app.example, [stored, ui_lang], turn_outputs, concurrency_id="answer", **private),
            chat.retry(app.retry, [stored, ui_lang], turn_outputs, concurrency_id="answer", **private),
        ]
        for run in turns_run:
            run.then(ask_state, [box, busy], ask, queue=False, show_progress="hidden", **private)
        chat.edit(app.edit, [stored, ui_lang], [chat, stored, box], **private)
        chat.vote(app.vote, [stored, ui_lang], [chat, stored], **private)
        chat.comment(app.comment, [stored, ui_lang], [chat, stored], **private)
        clear.click(app.clear, ui_lang, turn_outputs, cancels=turns_run, **private)
        box.change(None, box, None, js=COUNTER_JS, **private)
        box.change(ask_state, [box, busy], ask, queue=False, show_progress="hidden", **private)

        labelled = [heading, ui_lang, box, ask, clear, chat_tab, docs_tab, chat, documents, technical, error,
                    stored_lang]
        ui_lang.input(app.relabel, [stored, ui_lang], labelled, js=f"(state, lang) => [state, ({SET_LANG_JS})(lang)]",
                      **private)
        demo.load(app.relabel, [stored, stored_lang], labelled, js=(
            "(state, lang) => { const chosen = lang || ((navigator.language || '').toLowerCase().startsWith('ja') "
            f"? 'ja' : 'en'); return [state, ({SET_LANG_JS})(chosen)]; }}"), **private)
        gr.api(app.api, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=256)
    return demo


def launch_options() -> dict[str, Any]:
    """What ``Blocks.launch`` needs besides the address: styles, scripts, no footer."""
    return {"css": CSS, "head": HEAD, "footer_links": []}


def _auth() -> list[tuple[str, str]] | None:
    """Credentials from QA_AUTH (``user:password``) or QA_AUTH_FILE (one ``user:password`` per line)."""
    serve = ServeSettings()
    entries = [serve.auth] if serve.auth else []
    if serve.auth_file:
        entries += [line.strip() for line in serve.auth_file.read_text(encoding="utf-8").splitlines() if line.strip()]
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
        log.error("%s", err)
        return 2
    if not _is_loopback(host) and auth is None:
        log.error("refusing to serve on %s without authentication; set QA_AUTH=user:password (or QA_AUTH_FILE=path "
                  "with user:password lines), or use --host 127.0.0.1", host)
        return 2
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_app(chain)
    print(f"qa chat on http://{host}:{port}", flush=True)  # the command's output: where to point a browser
    demo.launch(server_name=host, server_port=port, share=False, auth=auth, prevent_thread_lock=not block,
                quiet=True, show_error=False, **launch_options())
    return 0 if block else demo


if __name__ == "__main__":
    sys.exit(launch(ServeSettings().host, ServeSettings().port))
