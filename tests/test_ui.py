"""The chat's parts without a browser: rendering, the stored conversation, streaming, feedback, strings.
Built on the second corpus and made-up answers, so no assertion depends on the bundled corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from qa.answer import Answer, AnswerChunk, Citation, Conflict
from qa.config import PROJECT_ROOT
from qa.manifest import load_manifest
from qa.query import QuestionError
from qa.ui.conversation import history_of, stream_turn, turns_from_state, turns_to_state
from qa.ui.feedback import FeedbackLog, feedback_path
from qa.ui.render import Turn, citation_label, copy_text, merge_repeated, turn_html
from qa.ui.strings import TEXT, load_examples, t

CORPUS2 = PROJECT_ROOT / "tests" / "fixtures" / "corpus2"


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(CORPUS2)


def make_answer(manifest, text="The levee costs <b>$5</b> [1]. It opens in 2030 [2][3].") -> Answer:
    primary, commentary = manifest.primary.id, manifest.commentary[0].id
    citations = [
        Citation(1, primary, "Plan > Levees", "en", "The levee costs $5 <script>x</script>.", f"{primary}.en.0001",
                 "堤防は5ドル。", f"{primary}.ja.0001"),
        Citation(2, primary, "Plan > Levees", "ja", "堤防は5ドル。", f"{primary}.ja.0001",
                 "The levee costs $5.", f"{primary}.en.0001"),
        Citation(3, commentary, "Opinion", "en", "It opens in 2030.", f"{commentary}.en.0002"),
    ]
    conflicts = [Conflict("opening", "in 2030", "in 2031", commentary, primary)]
    return Answer("When <i>?", "en", text, False, citations, conflicts, reader="local:tiny-model")


def test_a_passage_cited_twice_or_through_its_twin_gets_one_number(manifest):
    merged = merge_repeated(make_answer(manifest))
    assert [c.n for c in merged.citations] == [1, 2]
    assert merged.answer == "The levee costs <b>$5</b> [1]. It opens in 2030 [1][2]."
    assert merged.citations[1].chunk_id.endswith(".en.0002")


def test_labels_name_the_document_and_section_path_never_chunk_ids(manifest):
    answer = merge_repeated(make_answer(manifest))
    label = citation_label(answer.citations[0], manifest, "en")
    assert label == f"{manifest.primary.label('en')} › Plan › Levees"
    page = turn_html(Turn("t1", answer.question, answer), manifest, "en", last=True)
    visible = re.sub(r"<[^>]+>", "", page)
    assert ".en.0001" not in visible and manifest.primary.label("en") in visible


def test_copy_text_is_plain_with_markers_sources_and_conflicts(manifest):
    answer = merge_repeated(make_answer(manifest))
    text = copy_text(answer, manifest, "ja")
    assert text.startswith(answer.answer) and "\n\n出典:\n[1] " in text and "\n[2] " in text
    assert "in 2031" in text and "<script>" not in text


def test_everything_from_the_corpus_and_the_user_is_escaped_and_ids_carry_the_turn(manifest):
    answer = merge_repeated(make_answer(manifest))
    page = turn_html(Turn("abc123", answer.question, answer, feedback="down"), manifest, "en", last=True)
    assert "<script>" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;" in page and "When &lt;i&gt;?" in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert ids and all(i.startswith("qa-abc123") for i in ids) and len(ids) == len(set(ids))
    assert all("<" not in label for label in re.findall(r'aria-label="([^"]*)"', page))
    assert 'href="#qa-abc123-src-1"' in page and 'class="qa-comment"' in page
    assert 'data-reader="local:tiny-model"' in page and "Written by local:tiny-model" in page
    assert page.count("qa-retry") == 1
    assert "qa-retry" not in turn_html(Turn("abc123", answer.question, answer), manifest, "en", last=False)


def test_a_turn_being_written_shows_its_text_escaped_and_busy(manifest):
    page = turn_html(Turn("w1", "q <i>?", partial="The <b>levee</b> [1]"), manifest, "ja")
    assert "The &lt;b&gt;levee&lt;/b&gt; [1]" in page and "<b>" not in page and "qa-ref" not in page
    assert 'aria-busy="true"' in page and "qa-pending" in page and "qa-copy" not in page
    assert t("ja", "writing") in turn_html(Turn("w1", "q?"), manifest, "ja")


def test_the_stored_conversation_round_trips_and_makes_the_history(manifest):
    answer = merge_repeated(make_answer(manifest))
    turns = [Turn("a", "first?", answer, feedback="up"), Turn("b", "pending?")]
    state = json.loads(json.dumps(turns_to_state(turns)))  # as the browser keeps it
    back = turns_from_state(state)
    assert back == [turns[0]]
    assert history_of(back) == [{"role": "user", "content": "first?"}, {"role": "assistant", "content": answer.answer}]
    assert turns_from_state([{"id": "x", "question": "q", "answer": {"no": "fields"}}]) == []
    assert turns_from_state("not a list") == []


class FakeChain:
    def __init__(self, pieces, answer, error=None):
        self.pieces, self.answer, self.error, self.asked = pieces, answer, error, []

    def stream(self, input):
        self.asked.append(input)
        if self.error:
            raise self.error
        yield from (AnswerChunk(text=p) for p in self.pieces)
        yield AnswerChunk(answer=self.answer)


def test_a_turn_streams_each_chunk_then_finishes_with_the_merged_answer(manifest):
    answer = make_answer(manifest)
    chain = FakeChain(["The levee ", "costs ", "$5 [1]."], answer)
    shown = list(stream_turn(chain, Turn("t", "q?"), [{"role": "user", "content": "before"}]))
    assert [s.partial for s in shown[:-1]] == ["The levee ", "The levee costs ", "The levee costs $5 [1]."]
    assert shown[-1].answer == merge_repeated(answer) and shown[-1].partial == ""
    assert chain.asked == [{"question": "q?", "history": [{"role": "user", "content": "before"}]}]
    with pytest.raises(QuestionError):
        list(stream_turn(FakeChain([], answer, QuestionError("the question has no words")), Turn("t", "?"), []))
    with pytest.raises(RuntimeError):
        list(stream_turn(FakeChain(["text"], None), Turn("t", "q"), []))


def test_feedback_appends_one_json_line_per_vote_or_comment(manifest, tmp_path):
    log = FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    turn = Turn("t1", "q?", merge_repeated(make_answer(manifest)))
    log.record(turn, "up", manifest)
    log.record(turn, "up", manifest, "useful " * 300)
    lines = [json.loads(line) for line in log.path.read_text(encoding="utf-8").splitlines()]
    assert [(r["turn"], r["rating"]) for r in lines] == [("t1", "up"), ("t1", "up")]
    assert lines[0]["comment"] == "" and len(lines[1]["comment"]) == 1000
    assert lines[1]["reader"] == "local:tiny-model" and lines[1]["citations"][0].endswith(".en.0001")
    with pytest.raises(ValueError):
        log.record(turn, "meh", manifest)
    with pytest.raises(ValueError):
        log.record(Turn("t2", "q?"), "up", manifest)


def test_feedback_goes_to_qa_feedback_file_or_the_index_directory(tmp_path):
    settings = SimpleNamespace(feedback_file="", index_dir=tmp_path / "index")
    assert feedback_path(settings) == tmp_path / "index" / "feedback.jsonl"
    chosen = SimpleNamespace(feedback_file=str(tmp_path / "f.jsonl"), index_dir=tmp_path)
    assert feedback_path(chosen) == tmp_path / "f.jsonl"


def test_every_interface_text_exists_in_both_languages_and_examples_are_optional(tmp_path):
    assert TEXT["en"].keys() == TEXT["ja"].keys()
    assert t("xx", "ask") == t("ja", "ask")
    assert load_examples(tmp_path) == {"ja": [], "en": []}
    (tmp_path / "examples.json").write_text(json.dumps({"ja": ["一つ？", ""], "en": ["One?"]}), encoding="utf-8")
    assert load_examples(tmp_path) == {"ja": ["一つ？"], "en": ["One?"]}


def test_the_ui_names_no_document_of_the_bundled_corpus():
    bundled = load_manifest(PROJECT_ROOT / "corpus")
    names = {d.id for d in bundled.documents}
    names |= {v for d in bundled.documents for v in (*d.title.values(), *d.name.values())}
    for path in Path(PROJECT_ROOT / "ui").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not [n for n in names if re.search(rf"\b{re.escape(n)}\b", source)], path
