"""The corpus: verbatim Japanese text, an aligned English rendering, structure-following chunks."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from conftest import CORPUS, SEED
from qa.chunks import MAX_CHUNK_CHARS, make_chunks
from qa.corpus import CorpusError, parse_document, read_corpus, read_document
from qa.numbers import number_tokens

# What the corpus leaves out of the seed, all page furniture of the firm's web page.
OMITTED = {
    "赤坂国際会計事務所",  # site header
    "2025.10.30UP!",  # posting stamp
    "• blog", "• AI", "• エネルギー政策", "• サプライチェーン", "• トランプ政権", "• 国際法務",
    "• 日米関係", "• 日米首脳会談", "• 経済安全保障", "• 重要鉱物",  # tag list
    "雜訳",  # the "rough translation" label above the fact sheet
    "著者情報", "赤坂国際法律会計事務所", "弁護士 角田進二", "ご相談はこちらから",  # author box
}
ADDED_HEADINGS = {"## FAQ"}  # a heading the corpus adds above the article's Q&A


def _unmarked(line: str) -> str:
    """A line without a Markdown heading mark (the corpus marks the article's headings)."""
    return re.sub(r"^#{1,6} ", "", line)


def _corpus_lines(doc: str) -> list[str]:
    lines = [l.strip() for l in (CORPUS / "ja" / f"{doc}.md").read_text(encoding="utf-8").splitlines() if l.strip()]
    return [_unmarked(l) for l in lines if l not in ADDED_HEADINGS]


@pytest.mark.skipif(not SEED.is_file(), reason="the shared seed is not beside this checkout")
def test_japanese_corpus_is_the_seed_verbatim():
    seed_lines = [l.strip() for l in SEED.read_text(encoding="utf-8").splitlines() if l.strip()]
    kept = [_unmarked(l) for l in seed_lines if l not in OMITTED]
    assert _corpus_lines("blog") + _corpus_lines("factsheet") == kept
    assert OMITTED <= set(seed_lines), "every omitted line is really in the seed"


def test_english_rendering_aligns_block_by_block():
    docs = read_corpus(CORPUS)
    for doc in ("blog", "factsheet"):
        ja, en = docs[(doc, "ja")], docs[(doc, "en")]
        assert len(ja) == len(en)
        for a, b in zip(ja, en):
            assert (a.kind, len(a.section)) == (b.kind, len(b.section)), (a.text, b.text)
            assert Counter(number_tokens(a.text)) == Counter(number_tokens(b.text)), (a.text, b.text)


def test_amount_normalisation_matches_both_languages():
    assert number_tokens("3,320億ドル") == number_tokens("$332 billion") == ["usd:332000000000"]
    assert number_tokens("3億5,000万ドル") == number_tokens("$350 million")
    assert number_tokens("10%以上") == number_tokens("more than 10%")


def test_english_uses_known_names():
    text = (CORPUS / "en" / "factsheet.md").read_text(encoding="utf-8")
    for name in ("Westinghouse", "GE Vernova", "Fujikura", "JERA", "Glenfarne", "AMRAAM", "Toshiba", "Carrier"):
        assert name in text


def test_section_paths_follow_the_headings():
    docs = read_corpus(CORPUS)
    sections = {b.section for b in docs[("factsheet", "ja")]}
    assert ("米国製造業と輸出の強化", "AI インフラ投資") in sections
    assert ("Strengthening American Manufacturing and Exports", "AI Infrastructure Investment") in {
        b.section for b in docs[("factsheet", "en")]
    }
    faq = [b for b in docs[("blog", "ja")] if b.kind == "faq"]
    assert [b.text[:2] for b in faq] == ["Q1", "Q2", "Q3", "Q4"]


def test_chunks_stay_in_one_block_and_carry_metadata():
    docs = read_corpus(CORPUS)
    chunks = make_chunks(docs)
    blocks = {(b.doc, b.lang, b.position): b for blocks in docs.values() for b in blocks}
    ids = {c.chunk_id for c in chunks}
    for chunk in chunks:
        block = blocks[(chunk.doc, chunk.lang, chunk.position)]
        assert chunk.text in block.text, "a chunk never spans two blocks or sections"
        assert chunk.section == " > ".join(block.section)
        assert len(chunk.text) <= MAX_CHUNK_CHARS[chunk.lang]
        assert chunk.twin_id in ids and chunk.twin_id.split(".")[1] != chunk.lang
        assert len(chunk.content_hash) == 16
    assert len(ids) == len(chunks)


def test_long_japanese_block_splits_at_sentence_ends():
    sentence = "日本は米国に投資します。" * 60
    text = f"# 題\n\n## 節\n\n{sentence}\n"
    blocks = {("d", "ja"): parse_document(text, "d", "ja")}
    chunks = make_chunks(blocks)
    assert len(chunks) > 1
    assert all(c.text.endswith("。") and len(c.text) <= MAX_CHUNK_CHARS["ja"] for c in chunks)
    assert "".join(c.text for c in chunks) == sentence


def test_units_split_japanese_lists_by_item():
    docs = read_corpus(CORPUS)
    ai = next(c for c in make_chunks(docs) if c.chunk_id.startswith("factsheet.ja") and "フジクラ" in c.text)
    assert any(u.startswith("フジクラとの協力") and "200億ドル" in u for u in ai.units)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"\xff\xfe broken", "not UTF-8"), ("本文だけ。".encode(), "before the first"),
     ("# 題\n\n本文\x00です".encode(), "control character")],
)
def test_broken_files_are_named(tmp_path, content, message):
    path = tmp_path / "broken.md"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=message) as err:
        read_document(path, "ja")
    assert str(path) in str(err.value)


def test_misaligned_rendering_is_named(tmp_path):
    for lang, body in (("ja", "# 題\n\n一。\n\n二。\n"), ("en", "# Title\n\nOne.\n")):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "doc.md").write_text(body, encoding="utf-8")
    with pytest.raises(CorpusError, match="en/doc.md"):
        read_corpus(tmp_path)
