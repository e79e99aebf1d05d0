"""Cold start, warm stages, indexing, the chat server's memory, and our own retrieval recall."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import BIN, COLD_QUESTION, bench_env, free_port, proc_status_kib, run, wait_http
from qa.config import PROJECT_ROOT, Settings
from qa.stats import summary

HEAVY_MODULES = ("gradio", "torch")
STAGES = ("embed", "dense", "lexical", "fusion", "compose", "other", "total")


def measure_cold_start(runs: int) -> dict[str, Any]:
    """Wall time and peak RSS of ``qa ask`` from process start to its answer (existing index)."""
    results = [run([str(BIN / "qa"), "ask", COLD_QUESTION]) for _ in range(runs)]
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
    done = run([sys.executable, "-c", _PROBE, COLD_QUESTION])
    return {stage: round(seconds, 3) for stage, seconds in json.loads(done["stdout"].strip().splitlines()[-1]).items()}


def measure_imports(top: int = 8) -> dict[str, Any]:
    """What ``qa ask`` imports (``-X importtime``): gradio or torch at all, and the slowest top-level modules."""
    done = run([sys.executable, "-X", "importtime", "-m", "qa.cli", "ask", COLD_QUESTION])
    totals: dict[str, float] = {}
    names: set[str] = set()
    for line in done["stderr"].splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)$", line)
        if match:
            names.add(match.group(3))
            if not match.group(2):
                totals[match.group(3)] = int(match.group(1)) / 1e6
    slowest = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return {"heavy_imported": {m: m in names for m in HEAVY_MODULES},
            "slowest_s": {name: round(seconds, 3) for name, seconds in slowest}}


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
    return {"questions": len(questions), "stages_ms": {stage: summary(v) for stage, v in per_stage.items()}}


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


def measure_chat_memory(questions: list[dict[str, Any]], count: int) -> dict[str, Any]:
    """Peak RSS (VmHWM) of ``qa chat`` after ``count`` questions through its ``/ask`` API."""
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "qa"), "chat", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=bench_env(), cwd=PROJECT_ROOT)
    try:
        wait_http(url, proc)
        ready_s = time.perf_counter() - started
        rss_ready = proc_status_kib(proc.pid, "VmRSS")
        client = Client(url, verbose=False, analytics_enabled=False)
        latencies = []
        for i in range(count):
            clock = time.perf_counter()
            client.predict(questions[i % len(questions)]["question"], [], api_name="/ask")
            latencies.append((time.perf_counter() - clock) * 1000)
        hwm = proc_status_kib(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {"questions": count, "ready_s": round(ready_s, 2), "rss_ready_mib": round(rss_ready / 1024, 1),
            "peak_rss_mib": round(hwm / 1024, 1), "api_latency_ms": summary(latencies)}


def measure_our_recall(settings: Settings) -> dict[str, Any]:
    """Our Recall@5 by direction (hybrid retrieval) on facts + crosslingual, from ``qa.evaluation``."""
    from qa.evaluation import run as run_eval

    result, _results = run_eval(settings, ("facts", "crosslingual"), ablation=False, show_progress=False)
    return {d: {"n": v["n"], "recall": v["recall@5"]} for d, v in result["retrieval"]["hybrid"].items()}
