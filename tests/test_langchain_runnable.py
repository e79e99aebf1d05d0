"""The chain as a LangChain Runnable: config and callbacks flow through (chain → retriever → chat model),
``astream_events`` shows the runs, ``stream`` is incremental, history in every message form, ``as_tool``."""

from __future__ import annotations

import asyncio
import json
import re
from functools import reduce
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableLambda
from langchain_core.tracers.context import collect_runs

from qa.answer import Answer, AnswerChunk
from qa.chain import QAChain
from qa.inputs import QAInput, parse_input
from qa.query import QuestionError

FUJIKURA = "How much is Fujikura investing?"
BROAD = "Give me an overview of the cooperation on advanced technology"  # a section in brief: several sentences
MODEL_SAYS = "Fujikura's commitment is up to $20 billion [1]. Nobody cites this."


class Scripted(BaseChatModel):
    """Classifies every question as a list ("F": a single fact would keep the extractive answer) and answers
    ``reply``, streamed word by word."""

    reply: str = MODEL_SAYS

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _text(self, messages: list[BaseMessage]) -> str:
        return "F" if str(messages[0].content).startswith("Classify") else self.reply

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._text(messages)))])

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any):
        for word in re.findall(r"\S+\s*", self._text(messages)):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=word))
            if run_manager:
                run_manager.on_llm_new_token(word, chunk=chunk)
            yield chunk


class Recorder(BaseCallbackHandler):
    """Every run started: its kind, name, id, parent, tags and metadata."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []

    def _start(self, kind: str, serialized: Any, run_id: UUID, parent_run_id: UUID | None, **kwargs: Any) -> None:
        self.runs.append({"kind": kind, "name": kwargs.get("name"), "id": run_id, "parent": parent_run_id,
                          "tags": kwargs.get("tags") or [], "metadata": kwargs.get("metadata") or {}})

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                       **kwargs: Any) -> None:
        self._start("chain", serialized, run_id, parent_run_id, **kwargs)

    def on_retriever_start(self, serialized: Any, query: str, *, run_id: UUID, parent_run_id: UUID | None = None,
                           **kwargs: Any) -> None:
        self._start("retriever", serialized, run_id, parent_run_id, **kwargs)

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID,
                            parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._start("chat_model", serialized, run_id, parent_run_id, **kwargs)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["kind"] == kind]


@pytest.fixture(scope="module")
def llm_chain(chain: QAChain) -> QAChain:
    return QAChain(chain.settings, llm=Scripted())


def test_callbacks_see_the_chain_its_retriever_and_its_chat_model_with_the_given_config(llm_chain):
    recorder = Recorder()
    config = {"callbacks": [recorder], "run_name": "ask-fujikura", "tags": ["t1"], "metadata": {"who": "test"}}
    answer = llm_chain.invoke({"question": FUJIKURA}, config)
    assert answer.reader == "llm:Scripted" and "$20 billion" in answer.answer
    (top,) = [r for r in recorder.runs if r["parent"] is None]
    assert top["kind"] == "chain" and top["name"] == "ask-fujikura"
    assert recorder.of("retriever") and recorder.of("chat_model")
    for child in recorder.of("retriever") + recorder.of("chat_model"):
        assert child["parent"] == top["id"]  # children of the chain run, not runs of their own
        assert "t1" in child["tags"] and child["metadata"].get("who") == "test"
        assert child["name"] != "ask-fujikura"  # run_name names the chain only
    assert recorder.of("retriever")[0]["name"] == "HybridRetriever"


def test_the_read_request_is_a_chain_run_with_its_retriever_as_a_child(chain):
    recorder = Recorder()
    request = chain.read_request("フジクラの投資額は？", {"callbacks": [recorder], "tags": ["t1"]})
    assert request.hits and not request.baseline.abstained
    (top,) = [r for r in recorder.runs if r["parent"] is None]
    assert top["kind"] == "chain" and top["name"] == "read_request"
    assert recorder.of("retriever") and all(r["parent"] == top["id"] and "t1" in r["tags"]
                                            for r in recorder.of("retriever"))


def test_collect_runs_traces_the_chain_with_a_child_retriever_run(chain):
    with collect_runs() as runs:
        answer = chain.invoke("フジクラの投資額は？", {"run_name": "qa"})
    (run,) = runs.traced_runs
    assert run.name == "qa" and run.run_type == "chain" and run.error is None
    retrievals = [r for r in run.child_runs if r.run_type == "retriever"]
    # the question as searched: itself, then the forms of its names the documents write in the other script
    assert retrievals and retrievals[0].inputs["query"].startswith("フジクラの投資額は？")
    store = chain.index.get()
    cited = {store.chunks[store.by_id[c.chunk_id]].block_key for c in answer.citations}
    assert cited and cited <= {d.metadata["block_key"] for d in retrievals[0].outputs["documents"]}


def test_inside_a_sequence_and_a_batch_the_chain_is_a_child_run(chain):
    recorder = Recorder()
    sequence = RunnableLambda(lambda q: {"question": q}) | chain
    answer = sequence.invoke("What will Toyota do?", {"callbacks": [recorder]})
    assert isinstance(answer, Answer) and answer.language == "en"
    (top,) = [r for r in recorder.runs if r["parent"] is None]
    (qa_run,) = [r for r in recorder.of("chain") if r["name"] == "QAChain"]
    assert qa_run["parent"] == top["id"]
    assert all(r["parent"] == qa_run["id"] for r in recorder.of("retriever"))

    batched = Recorder()
    answers = chain.batch(["フジクラの投資額は？", "What will Toyota do?"], {"callbacks": [batched], "tags": ["b"]})
    assert [a.language for a in answers] == ["ja", "en"]
    assert len([r for r in batched.of("chain") if r["parent"] is None and "b" in r["tags"]]) == 2


def test_astream_events_show_the_chain_the_retriever_and_the_chat_model(llm_chain):
    async def events() -> list[dict[str, Any]]:
        return [e async for e in llm_chain.astream_events({"question": FUJIKURA}, version="v2")]

    found = asyncio.run(events())
    kinds = {(e["event"], e["name"]) for e in found}
    assert {("on_chain_start", "QAChain"), ("on_chain_end", "QAChain"), ("on_retriever_start", "HybridRetriever"),
            ("on_retriever_end", "HybridRetriever"), ("on_chat_model_start", "Scripted")} <= kinds
    assert any(e["event"] == "on_chat_model_stream" for e in found)
    streamed = [e["data"]["chunk"] for e in found if e["event"] == "on_chain_stream" and e["name"] == "QAChain"]
    assert len(streamed) > 2 and all(isinstance(c, AnswerChunk) for c in streamed)
    assert streamed[-1].answer is not None and "$20 billion" in streamed[-1].answer.answer


def test_the_extractive_stream_yields_the_answer_sentence_by_sentence(chain):
    chunks = list(chain.stream(BROAD))
    texts = [c.text for c in chunks if c.text]
    final = chunks[-1].answer
    assert final is not None and not final.abstained and all(c.answer is None for c in chunks[:-1])
    assert len(texts) > 1 and "".join(texts) == final.answer  # each piece one rendered sentence, markers included
    assert all(re.search(r"\[\d+\]\.?$", t) for t in texts)
    total = reduce(lambda a, b: a + b, chunks)
    assert total.text == final.answer and total.answer is final
    assert chain.invoke(BROAD).answer == final.answer

    async def collected() -> list[AnswerChunk]:
        return [c async for c in chain.astream(BROAD)]

    assert [c.text for c in asyncio.run(collected())] == [c.text for c in chunks]
    assert asyncio.run(chain.ainvoke(BROAD)).answer == final.answer


def test_a_streamed_sequence_streams_the_chains_chunks(chain):
    sequence = RunnableLambda(lambda q: {"question": q}) | chain
    chunks = list(sequence.stream(BROAD))
    assert len(chunks) > 2 and all(isinstance(c, AnswerChunk) for c in chunks)
    assert chunks[-1].answer is not None and "".join(c.text for c in chunks) == chunks[-1].answer.answer


def test_a_chat_models_tokens_stream_and_the_final_answer_is_the_checked_one(llm_chain):
    chunks = list(llm_chain.stream({"question": FUJIKURA}))
    texts = [c.text for c in chunks if c.text]
    final = chunks[-1].answer
    assert len(texts) > 3 and "Nobody" in "".join(texts)  # the model's words as they come ...
    assert final is not None and "$20 billion" in final.answer and "Nobody" not in final.answer  # ... checked


def test_history_as_messages_tuples_or_role_dicts_gives_the_same_answer(chain):
    first, said, follow_up = FUJIKURA, "Up to $20 billion [1].", "What is it for?"
    forms = [
        [{"role": "user", "content": first}, {"role": "assistant", "content": said}],
        [{"role": "human", "content": first}, {"role": "ai", "content": said}],
        [HumanMessage(first), AIMessage(said)],
        [SystemMessage("be brief"), ("human", first), ("ai", said)],
        QAInput(question=follow_up, history=[HumanMessage(first), AIMessage(said)]),
    ]
    answers = [chain.invoke(f if isinstance(f, QAInput) else {"question": follow_up, "history": f}) for f in forms]
    assert "fiber optic" in answers[0].answer and not answers[0].abstained
    assert all(a.to_dict() == answers[0].to_dict() for a in answers[1:])
    assert chain.invoke(follow_up).abstained  # the history is what made the difference


def test_history_forms_convert_to_the_turns_the_question_reader_takes():
    want = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    for history in ([("human", "q"), ("ai", "a")], [HumanMessage("q"), AIMessageChunk("a")],
                    [{"role": "user", "content": [{"type": "text", "text": "q"}]}, {"role": "ai", "content": "a"}]):
        assert parse_input({"question": "x", "history": history}).history == want


@pytest.mark.parametrize("bad", [42, None, ["How much?"], ("How much?",), b"How much?", 1.5])
def test_input_that_is_neither_a_question_nor_a_dict_is_a_question_error(chain, bad):
    with pytest.raises(QuestionError, match="input must be"):
        chain.invoke(bad)


@pytest.mark.parametrize("history", ["not a list", [{"role": "user"}], [{"role": "tool", "content": "x"}], [42]])
def test_history_that_holds_no_messages_is_a_question_error(chain, history):
    with pytest.raises(QuestionError) as raised:
        chain.invoke({"question": FUJIKURA, "history": history})
    assert "\n" not in str(raised.value) and "history" in str(raised.value)


def test_the_input_schema_is_typed(chain):
    schema = chain.get_input_jsonschema()
    assert schema["required"] == ["question"] and schema["properties"]["question"]["type"] == "string"
    assert schema["properties"]["history"]["type"] == "array"


def test_as_tool_answers_with_the_answer_json(chain):
    tool = chain.as_tool()
    assert set(tool.args) >= {"question", "history"}
    result = tool.invoke({"question": "フジクラの投資額は？"})
    assert isinstance(result, dict) and result["language"] == "ja" and "200億ドル" in result["answer"]
    assert result["reader"] == "extractive" and result["citations"][0]["doc"] == "factsheet"
    message = tool.invoke({"type": "tool_call", "id": "call-1", "name": tool.name,
                           "args": {"question": FUJIKURA, "history": []}})
    assert isinstance(message, ToolMessage) and message.tool_call_id == "call-1"
    assert "$20 billion" in json.loads(message.content)["answer"]


def test_the_tools_callbacks_reach_the_chain_run(chain):
    recorder = Recorder()
    tool = chain.as_tool(name="qa")
    assert "exclude_faq" not in tool.args  # the evaluation's switch is no tool argument
    tool.invoke({"question": "What will Toyota do?"}, {"callbacks": [recorder]})
    (qa_run,) = [r for r in recorder.of("chain") if r["name"] == "QAChain"]
    assert qa_run["parent"] is not None and recorder.of("retriever")[0]["parent"] == qa_run["id"]
