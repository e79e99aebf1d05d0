"""The bench's floors and its printed table."""

from __future__ import annotations

from typing import Any

from bench.common import DIRECTIONS
from qa.config import Settings


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
