"""Names written in katakana in one passage and in Latin letters in its twin: aligned, then searched both ways."""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.query import analyse, with_aliases
from qa.transliteration import (
    align,
    katakana_words,
    name_runs,
    other_script,
    renderings,
    spelt_name,
    transliteration_table,
)
from qa.variants import aliases

JA = "ブライトンとの協力による発電所の建設、ミナトテック株式会社が開発した予測システム、インフラの保守。"
EN = ("Construction of power plants in collaboration with Brighton, a forecasting system developed by Minatotech "
      "Co., Ltd., and maintenance of ENTRA1 infrastructure.")


def test_each_katakana_name_is_paired_with_the_latin_name_of_its_twin():
    pairs = dict(align(JA, EN))
    assert pairs["ブライトン"] == "Brighton"
    assert pairs["ミナトテック"] == "Minatotech"
    assert "インフラ" not in pairs, "a loanword is no transliteration of a name that only looks a little like it"


def test_no_pair_without_a_twin_name_close_enough():
    assert align("ブライトンとの協力。", "Cooperation with the city.") == []


def test_a_name_maps_to_its_other_script_form_both_ways():
    found = transliteration_table(align(JA, EN))
    assert found["ブライトン"] == ("Brighton",)
    assert found["brighton"] == ("ブライトン",)


def test_katakana_words_and_name_runs_are_read_as_written():
    assert katakana_words("ヘインズビル・シェールの開発・") == {"ヘインズビル・シェール", "ヘインズビル", "シェール"}
    assert {"Kinder Morgan", "Kinder", "Morgan"} <= name_runs("with Kinder Morgan for gas")
    assert "Trump" in name_runs("President Trump's deal") and "Trump's" not in name_runs("President Trump's deal")
    assert name_runs("## Kinder Morgan\nThe plan") == {"Kinder", "Kinder Morgan", "Morgan"}, "no run across lines"


def test_names_listed_with_a_middle_dot_are_aligned_one_by_one():
    pairs = dict(align("ブライトン・ミナトテック・東芝が参加する。", "Brighton, Minatotech and Toshiba take part."))
    assert pairs["ブライトン"] == "Brighton" and pairs["ミナトテック"] == "Minatotech"


def test_alignment_does_not_depend_on_the_order_of_a_set():
    import subprocess
    import sys

    code = ("from qa.transliteration import align; "
            "print(align('ヘインズビル・シェールの開発とヘインズビルシェール。', 'Development of the Haynesville Shale.'))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)}).stdout
               for seed in range(4)}
    assert len(outputs) == 1, outputs


def test_a_question_in_either_script_gets_the_other_form():
    found = transliteration_table(align(JA, EN))
    assert other_script("Brightonは何を建設しますか？", found) == [("brighton", "ブライトン")]
    assert other_script("What will ブライトン build?", found) == [("ブライトン", "Brighton")]
    assert other_script("What will the city build?", found) == []


@dataclass
class _Chunk:
    text: str
    lang: str


OTHERS = [_Chunk(text, lang) for n in range(9) for text, lang in
          ((f"第{n}期の堤防工事。", "ja"), (f"Levee works of phase {n}.", "en"))]


@dataclass
class _Store:
    """Twin passages (Japanese 0, English 1) among others of one index version, aligned as the index is."""

    chunks: list[_Chunk] = field(default_factory=lambda: [_Chunk(JA, "ja"), _Chunk(EN, "en"), *OTHERS])
    version: str = "test-transliteration"

    @property
    def transliterations(self) -> list[list[tuple[str, str]]]:
        return [align(JA, EN)] + [[] for _ in self.chunks[1:]]

    @property
    def renderings(self) -> list[list[tuple[str, str]]]:
        return [renderings(c.text) if c.lang == "en" else [] for c in self.chunks]

    def token_set(self, index: int) -> frozenset[str]:
        from qa.text import tokens

        return frozenset(tokens(self.chunks[index].text))


def test_a_japanese_question_naming_a_katakana_name_is_searched_with_its_latin_form_too():
    store = _Store()
    question = "ブライトンは何を建設しますか？"
    query = with_aliases(analyse(question), aliases(question, store))
    assert "Brighton" in query.search_text
    assert ("ブライトン", ("brighton",)) in query.aliases


def test_a_name_the_documents_write_everywhere_is_no_alias_worth_searching():
    store = _Store(chunks=[_Chunk(JA, "ja"), _Chunk(EN, "en")], version="test-setting")  # every one names Brighton
    assert aliases("ブライトンは何を建設しますか？", store) == []


RENDERED = {kana: name for name, kana in renderings("The Harbor Resilience Partnership signed with Kinder Morgan.")}


def test_a_katakana_spelling_of_an_english_name_the_corpus_writes_is_read_as_that_name():
    assert spelt_name("ハーバー・レジリエンス・パートナーシップ", RENDERED, frozenset()) == "Harbor Resilience Partnership"
    assert spelt_name("キンダー・モーガン", RENDERED, frozenset()) == "Kinder Morgan"


def test_a_question_name_is_replaced_as_a_whole_run_never_inside_a_longer_word():
    from qa.transliteration import spell_names

    rendered = {kana: name for name, kana in renderings("Morgan signed. Harbor Resilience Partnership too.")}
    text = "ハーバー・レジリエンス・パートナーシップとモルガン・スタンレーは？"
    respelt = spell_names(text, rendered, frozenset())
    assert "Harbor Resilience Partnership" in respelt and "モルガン・スタンレー" in respelt, respelt


def test_a_loanword_a_word_the_corpus_writes_or_a_far_spelling_is_left_alone():
    assert spelt_name("パートナーシップ", RENDERED, frozenset()) is None, "a common word names nothing"
    assert spelt_name("キンダー・モーガン", RENDERED, frozenset({"キンダー・モーガン"})) is None, "the corpus writes it"
    assert spelt_name("ハーバー・リゾート", RENDERED, frozenset()) is None


def test_a_question_spelling_a_name_in_katakana_is_respelt_with_the_name():
    from qa.variants import respell

    english_only = _Chunk("The Harbor Resilience Partnership funds the levees.", "en")
    store = _Store(chunks=[_Chunk(JA, "ja"), _Chunk(EN, "en"), *OTHERS, english_only], version="test-spelt")
    assert "Minatotech" not in respell("ミナトテックは何を開発しましたか？", store), "the corpus writes ミナトテック"
    respelt = respell("ハーバー・レジリエンス・パートナーシップは何をしますか？", store)
    assert "Harbor Resilience Partnership" in respelt and "ハーバー" not in respelt
