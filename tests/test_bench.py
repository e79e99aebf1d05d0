"""``qa bench --quick``: every section of the report is there, with numbers (no timing thresholds)."""

from __future__ import annotations

import argparse
import json
import numbers
import sys

import pytest

from qa.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT))  # bench/ is a folder of the checkout, beside src/, not part of the package
from bench import common, local_reader, peer, run, scale  # noqa: E402

SECTIONS = ("meta", "cold_start", "warm", "indexing", "memory", "scale", "peer", "ours_recall_at_5", "comparison",
            "floors")


def _number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value


@pytest.mark.slow
def test_quick_bench_writes_every_section(tmp_path, capsys):
    assert run.main(argparse.Namespace(quick=True, out=str(tmp_path), reader="extractive")) == 0
    result = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert set(SECTIONS) <= set(result)
    assert (tmp_path / "scale.png").stat().st_size > 0

    cold = result["cold_start"]
    assert _number(cold["median_s"]) and _number(cold["peak_rss_mib"]) and len(cold["runs_s"]) == cold["runs"]
    assert all(_number(v) for v in cold["stages"].values())
    assert set(cold["imports"]["heavy_imported"]) == {"gradio", "torch"}

    stages = result["warm"]["stages_ms"]
    assert set(stages) >= {"embed", "dense", "lexical", "fusion", "compose", "total"}
    assert all(_number(s[q]) for s in stages.values() for q in ("p50", "p95", "max"))

    indexing = result["indexing"]
    assert indexing["embedded"] > 0 and indexing["rerun_embedded"] == 0
    assert all(_number(indexing[k]) for k in ("scratch_s", "rerun_s", "embedded_per_s"))

    memory = result["memory"]
    assert memory["questions"] == run.CHAT_QUESTIONS[True] and _number(memory["peak_rss_mib"])
    assert _number(memory["qa_ask_peak_rss_mib"])

    scaled = result["scale"]
    assert "synthetic" in scaled and [r["chunks"] for r in scaled["sizes"]] == list(scale.QUICK_SIZES)
    for row in scaled["sizes"]:
        assert all(_number(row[k]) for k in ("build_s", "chroma_build_s", "bm25_build_s", "peak_rss_mib"))
        assert _number(row["query_ms"]["p50"]) and _number(row["query_ms"]["p95"])

    peer = result["peer"]
    assert peer["chunks"] > 0 and _number(peer["build_s"]) and _number(peer["latency_ms"]["p50"])
    assert set(peer["recall_at_4"]) == set(common.DIRECTIONS)
    assert set(common.DIRECTIONS) <= set(result["ours_recall_at_5"])  # and the searches of both languages

    comparison = result["comparison"]
    assert _number(comparison["latency_ratio_p50"]) and _number(comparison["latency_ratio_p95"])
    assert all(_number(v["difference"]) for v in comparison["recall"].values())

    floors = {f["floor"]: f["met"] for f in result["floors"]}
    assert len(floors) == 8 and all(met in (True, False, None) for met in floors.values())
    assert "Floors" in capsys.readouterr().out


def test_peer_found_matches_quote_and_english_overlap():
    passages = {"ja": ["最大10億ドル"], "en": ["Up to $1 billion for building a factory."]}
    assert peer.peer_found(["…に**最大10億ドル**…", "最大10億ドルを投入"], passages["ja"], "ja")
    assert not peer.peer_found(["最大20億ドル"], passages["ja"], "ja")
    assert peer.peer_found(["intro text. Up to $1 billion for building"], passages["en"], "en")
    assert not peer.peer_found(["Up to $1"], passages["en"], "en")


def test_gold_passages_take_the_english_twin_block():
    from qa.config import Settings
    from qa.corpus import read_corpus

    docs = read_corpus(Settings().corpus_dir)
    block = docs[("factsheet", "ja")][3]
    quote = block.text[5:25]
    passages = peer.gold_passages(docs, [{"doc": "factsheet", "quote": quote}])
    assert passages["ja"] == [quote]
    assert passages["en"] == [" ".join(docs[("factsheet", "en")][3].text.split())]


def test_the_scale_run_times_the_products_own_search(tmp_path, monkeypatch):
    """Every query of a (tiny) synthetic corpus goes through the functions IndexStore searches with."""
    import numpy as np

    import qa.index.chroma
    import qa.index.store

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(8, 16)).astype(np.float32)
    np.savez(tmp_path / "material.npz", vectors=vectors, queries=vectors[:3])
    (tmp_path / "material.json").write_text(json.dumps({
        "texts": [f"text {i}" for i in range(8)], "langs": ["ja", "en"] * 4,
        "tokens": [[f"t{i}", "x"] for i in range(8)], "query_tokens": [["t1"], ["x"], []],
    }), encoding="utf-8")
    calls = {"exact_nearest": 0, "lexical_best": 0, "nearest": 0}
    for module, name in ((qa.index.store, "exact_nearest"), (qa.index.store, "lexical_best"),
                         (qa.index.chroma, "nearest")):
        real = getattr(module, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    scale.scale_worker(12, tmp_path, tmp_path / "out.json")
    figures = json.loads((tmp_path / "out.json").read_text())
    assert calls == {"exact_nearest": 6, "lexical_best": 6, "nearest": 6}  # 3 queries × 2 languages
    assert figures["chunks"] == 12 and figures["dense_path"] == "exact"
    assert _number(figures["query_ms"]["p50"]) and figures["query_ms"]["n"] == 3


@pytest.mark.local_model
def test_the_local_reader_bench_times_the_first_token_and_the_whole_answer(tmp_path, capsys):
    from test_local_model import require_bundled_model

    require_bundled_model()
    assert run.main(argparse.Namespace(quick=False, out=str(tmp_path), reader="local")) == 0
    figures = json.loads((tmp_path / "local_reader.json").read_text(encoding="utf-8"))
    assert figures["questions"] == len(local_reader.QUESTIONS) == len(figures["rows"])
    streamed = [row for row in figures["rows"] if row["first_token_s"] is not None]  # the model wrote these
    assert streamed and all(0 < row["first_token_s"] <= row["total_s"] for row in streamed)
    assert all(_number(figures[key]) for key in ("load_s", "first_token_p50_s", "full_answer_p50_s", "peak_rss_mb"))
    printed = capsys.readouterr().out
    assert "first token p50 (s)" in printed and "ceiling 1.5" in printed
