"""Bad input never crashes: any text gives a contract-shaped Answer or a clear QuestionError / CorpusError.

Arbitrary Unicode (lone surrogates, NUL, right-to-left marks, mixed scripts, huge strings) goes to
``chain.invoke`` / ``qa.ask``-style calls, to the corpus parser and chunker, and to the ``qa ask`` command.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from qa.config import PROJECT_ROOT
from qa.corpus import CorpusError, parse_document, read_document
from qa.query import QuestionError
from test_server import qa_env

ANY_CHAR = st.characters(codec=None, exclude_categories=())  # surrogates, controls, private use, everything
FRAGMENTS = [
    "フジクラの投資額は？", "How much will TDK invest?", "トヨタ", "LNG", "$25 billion", "200億ドル",
    "ما هو الاستثمار", "שלום", "Привет", "😀👍🏽", "e\u0301", "\u200f", "\u200e", "\u202e", "\u2066", "\u2069",
    "\u200b", "\u200d", "\ufeff", "\x00", "\ud800", "\udfff", "\x07", "\x1b[31m", "\r\n", "\t", "  ",
    "[1]", "[99]", "<script>alert(1)</script>", "**", "#", "–", "Q1:", "?", "？", "。", ".",
]
MIXED = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(ANY_CHAR, max_size=8)), max_size=12).map("".join)
# past the 2,000-character limit (whatever collapses to less is fine too); one at the limit is timed below
HUGE = st.builds(lambda piece, n: piece * n, st.sampled_from(FRAGMENTS + ["a", "あ", " "]), st.integers(2_100, 12_000))
QUESTION = st.one_of(st.text(ANY_CHAR, max_size=80), MIXED, HUGE)
ROLES = st.sampled_from(["user", "assistant", "system", "", "tool"])
MESSAGE = st.one_of(
    st.fixed_dictionaries({"role": ROLES, "content": QUESTION}),
    st.fixed_dictionaries({"role": ROLES}),
    st.fixed_dictionaries({"role": ROLES, "content": st.one_of(st.none(), st.integers(), st.lists(st.integers()))}),
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
CORPUS_TEXT = {lang: "\n".join(p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "corpus" / lang).glob("*.md"))
               for lang in ("ja", "en")}


def assert_contract(answer, corpus_texts: dict[str, str] | None = None) -> None:
    d = answer.to_dict()
    assert list(d)[:6] == ["question", "language", "answer", "abstained", "citations", "conflicts"]  # extra keys after
    assert d["language"] in ("ja", "en") and isinstance(d["answer"], str) and d["answer"]
    assert isinstance(d["abstained"], bool) and isinstance(d["question"], str)
    d["question"].encode("utf-8")  # printable as UTF-8: no lone surrogates come back
    d["answer"].encode("utf-8")
    numbers = [c["n"] for c in d["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))
    assert {int(n) for n in re.findall(r"\[(\d+)\]", d["answer"])} <= set(numbers)
    if not d["abstained"]:
        assert d["citations"] and re.search(r"\[\d+\]", d["answer"])
    for c in d["citations"]:
        assert c["doc"] in ("factsheet", "blog") and c["lang"] in ("ja", "en") and c["chunk_id"].startswith(c["doc"])
        if corpus_texts is not None:
            assert c["text"] in corpus_texts[c["lang"]]
    for conflict in d["conflicts"]:
        assert set(conflict) >= {"topic", "blog", "factsheet"}
    json.dumps(d, ensure_ascii=False).encode("utf-8")


@FAST
@given(question=QUESTION)
def test_any_question_gives_an_answer_or_a_question_error(chain, question):
    try:
        answer = chain.invoke({"question": question, "history": []})
    except QuestionError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert_contract(answer, CORPUS_TEXT)


@FAST
@given(question=st.one_of(MIXED, st.sampled_from(FRAGMENTS[:6])), history=st.lists(MESSAGE, max_size=4))
def test_any_history_gives_an_answer_or_a_question_error(chain, question, history):
    try:
        answer = chain.invoke({"question": question, "history": history})
    except QuestionError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert_contract(answer, CORPUS_TEXT)


@pytest.mark.parametrize("question", [
    "", " \t\n ", "\x00", "\ud800", "\u200f\u200e\u202e", "???", "x" * 2001, "あ" * 20_000, "\x00" * 50_000,
])
def test_unusable_questions_are_question_errors(chain, question):
    with pytest.raises(QuestionError):
        chain.invoke({"question": question})


@pytest.mark.parametrize("question", [
    "フジクラの\x00投資額は？", "How much will \u202eTDK\u202c invest?", "\ufeffフジクラの投資額は？",
    "How much\ud800 will TDK invest?", "フジクラ（Fujikura）の投資額 how much?", "ما هو استثمار TDK? How much will TDK invest?",
])
def test_noisy_but_real_questions_are_answered(chain, question):
    answer = chain.invoke({"question": question})
    assert_contract(answer, CORPUS_TEXT)
    assert not answer.abstained and ("200億ドル" in answer.answer or "$20 billion" in answer.answer
                                     or "$25 billion" in answer.answer or "250億ドル" in answer.answer), answer.answer


def test_a_question_at_the_length_limit_is_answered_in_bounded_time(chain):
    import time

    question = ("How much will TDK invest? " * 80)[:2000]
    started = time.perf_counter()
    assert_contract(chain.invoke({"question": question}), CORPUS_TEXT)
    print(f"\n2,000-character question answered in {time.perf_counter() - started:.1f} s")


# ---------------------------------------------------------------- the corpus parser


MARKDOWN = st.lists(
    st.one_of(
        st.builds(lambda level, text: "#" * level + " " + text, st.integers(1, 7), MIXED),
        st.builds(lambda text: "– " + text, MIXED),
        st.builds(lambda n, text: f"Q{n}: {text}", st.integers(0, 20), MIXED),
        MIXED, st.text(ANY_CHAR, max_size=60), st.just(""),
    ),
    max_size=12,
).map(lambda blocks: "\n\n".join(blocks))


def _parse_and_chunk(text: str, lang: str) -> None:
    from qa.chunks import make_chunks

    try:
        blocks = parse_document(text, "doc", lang, source="corpus/x/doc.md")
    except CorpusError as err:
        assert "corpus/x/doc.md" in str(err)
        return
    assert blocks and all(b.text and b.section for b in blocks)
    chunks = make_chunks({("doc", lang): blocks})
    assert chunks and all(c.chunk_id.startswith("doc.") and c.text for c in chunks)


@FAST
@given(text=st.one_of(st.text(ANY_CHAR, max_size=300), MARKDOWN), lang=st.sampled_from(["ja", "en"]))
def test_any_document_parses_or_is_a_named_corpus_error(text, lang):
    _parse_and_chunk(text, lang)


@FAST
@given(body=MIXED, lang=st.sampled_from(["ja", "en"]), repeat=st.integers(1, 400))
def test_huge_documents_parse(body, lang, repeat):
    _parse_and_chunk("# Title\n\n## Section\n\n" + "\n\n".join(["– " + (body or "x")] * repeat), lang)


@FAST
@given(data=st.binary(max_size=400))
def test_any_bytes_read_as_a_document_or_a_named_corpus_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "doc.md"
    path.write_bytes(data)
    try:
        read_document(path, "en")
    except CorpusError as err:
        assert str(path) in str(err)


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("argument", [
    "", "   ", "x" * 20_000, "\x07\x08\x1b\x7f", "\u200f\u200e", b"\xff\xfe\xfd", "?!。",
])
def test_qa_ask_rejects_unusable_questions_with_status_2_and_one_line(built_settings, argument):
    done = subprocess.run([str(__import__("pathlib").Path(sys.executable).parent / "qa"), "ask", argument],
                          env=qa_env(built_settings), capture_output=True, timeout=120)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, err
    assert err.startswith("qa: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert done.stdout == b""


def test_qa_ask_answers_a_question_with_marks_and_mixed_scripts(built_settings):
    done = subprocess.run([str(__import__("pathlib").Path(sys.executable).parent / "qa"), "ask", "--json",
                           "\u200fフジクラ\u202e の投資額は？ 😀"], env=qa_env(built_settings), capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    answer = json.loads(done.stdout)
    assert "200億ドル" in answer["answer"] and answer["language"] == "ja"
