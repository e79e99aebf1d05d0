"""Scale: 1k/10k/100k-chunk corpora, each searched in its own process by the product's own search code.

The corpora are SYNTHETIC: every chunk recombines two real chunks of one language (vector = mean of
the two real vectors plus small noise, renormalised; text and token list = the two concatenated),
because embedding 100k passages on 2 cores would take hours. Each corpus is stored the way an index
version stores it (``qa.index.chroma.add_collection``, ``qa.index.build.lexical_model``) and searched
with the functions ``IndexStore`` calls (``qa.index.chroma.nearest``, ``qa.index.store.exact_nearest``,
``qa.index.store.lexical_best``).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import MIB, proc_status_kib, run, worker
from qa.config import Settings
from qa.stats import summary

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
SEARCH_DEPTH = 20  # what HybridRetriever asks of each list
NOISE = 0.01  # per-component noise added to a recombined vector (real components are ~0.05)
LANGS = ("ja", "en")


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


def synthesize(
    n: int, material: dict[str, Any], vectors: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, list[str], list[list[str]], list[str]]:
    """``n`` chunks (vectors, texts, token lists, languages), half per language, each two real chunks recombined."""
    by_lang = {lang: np.flatnonzero(np.asarray(material["langs"]) == lang) for lang in LANGS}
    langs = [LANGS[i % 2] for i in range(n)]
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
    """Store ``n`` synthetic chunks as an index version does, query them with the product's search code,
    write the figures to ``out``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from qa.index.build import lexical_model
    from qa.index.chroma import add_collection, nearest
    from qa.index.store import exact_nearest, lexical_best

    rss_base = proc_status_kib(os.getpid(), "VmRSS")
    data = np.load(folder / "material.npz")
    material = json.loads((folder / "material.json").read_text(encoding="utf-8"))
    clock = time.perf_counter()
    vectors, texts, token_lists, langs = synthesize(n, material, data["vectors"], np.random.default_rng(n))
    synth_s = time.perf_counter() - clock
    rows = {lang: np.asarray([i for i, x in enumerate(langs) if x == lang]) for lang in LANGS}
    with tempfile.TemporaryDirectory(prefix="qa-bench-scale-") as tmp:
        clock = time.perf_counter()
        client = chromadb.PersistentClient(path=tmp, settings=ChromaSettings(anonymized_telemetry=False))
        collections, matrices = {}, {}
        for lang in LANGS:  # one collection per language, as the index has
            matrices[lang] = np.ascontiguousarray(vectors[rows[lang]])
            collections[lang] = add_collection(
                client, f"bench-{lang}", matrices[lang], ids=[f"s{i}" for i in rows[lang]],
                documents=[texts[i] for i in rows[lang]], metadatas=[{"lang": lang} for _ in rows[lang]],
                metadata={"lang": lang})
        chroma_s = time.perf_counter() - clock
        clock = time.perf_counter()
        lexical = {lang: lexical_model([token_lists[i] for i in rows[lang]]) for lang in LANGS}
        bm25_s = time.perf_counter() - clock
        exact = all(len(m) <= Settings().exact_search_max for m in matrices.values())  # the choice IndexStore makes
        hnsw_ms: list[float] = []
        scan_ms: list[float] = []
        lexical_ms: list[float] = []
        for vector, query_tokens in zip(data["queries"], material["query_tokens"]):
            clock = time.perf_counter()
            for lang in LANGS:
                nearest(collections[lang], vector, SEARCH_DEPTH)
            clock = _lap_ms(hnsw_ms, clock)
            for lang in LANGS:
                exact_nearest(matrices[lang], rows[lang], vector, SEARCH_DEPTH)
            clock = _lap_ms(scan_ms, clock)
            for lang in LANGS:
                lexical_best(lexical[lang], rows[lang], query_tokens, SEARCH_DEPTH)
            _lap_ms(lexical_ms, clock)
        dense_ms = scan_ms if exact else hnsw_ms
        total_ms = [d + x for d, x in zip(dense_ms, lexical_ms)]
        disk_mib = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file()) / MIB
    out.write_text(json.dumps({
        "chunks": n, "synthesize_s": round(synth_s, 2), "chroma_build_s": round(chroma_s, 2),
        "bm25_build_s": round(bm25_s, 2), "build_s": round(chroma_s + bm25_s, 2),
        "query_ms": summary(total_ms), "dense_ms": summary(dense_ms), "lexical_ms": summary(lexical_ms),
        "dense_path": "exact" if exact else "hnsw", "hnsw_ms": summary(hnsw_ms), "exact_scan_ms": summary(scan_ms),
        "rss_after_imports_mib": round(rss_base / 1024, 1), "chroma_disk_mib": round(disk_mib, 1),
    }))


def measure_scale(sizes: tuple[int, ...], questions: list[dict[str, Any]]) -> dict[str, Any]:
    """One subprocess per corpus size (so peak memory is per size); synthetic corpora, see the module doc."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-material-") as tmp:
        folder = Path(tmp)
        material = prepare_scale_material(folder, questions)
        results = []
        for n in sizes:
            out = folder / f"scale-{n}.json"
            done = run(worker("scale", str(n), str(folder), str(out)))
            row = json.loads(out.read_text())
            row["peak_rss_mib"] = round(done["peak_rss_mib"], 1)
            row["tokenise_s_estimated"] = round(
                n * 2 * material["chars_per_source_chunk"] / material["tokenise_chars_per_s"], 1)
            results.append(row)
    return {"synthetic": ("each chunk = two random real chunks of one language recombined: vector = mean of their "
                          f"real vectors + N(0, {NOISE}) noise, renormalised; text and BM25 tokens = the two "
                          "concatenated (tokens recombined, not re-tokenised: tokenise_s_estimated is what SudachiPy "
                          "would take at the measured rate); half the chunks per language"),
            "queries": len(questions), **material, "sizes": results}


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
