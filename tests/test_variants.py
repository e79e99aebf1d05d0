"""Aliases the documents define and near-miss spellings: mined from the corpus, used in both directions."""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.answerability import holds
from qa.query import analyse, with_aliases
from qa.variants import aliases, mine_vocabulary, respell

TEXTS = [
    "The city will install a water-level sensor network (WLSN) at 120 locations to forecast flooding.",
    "市は水位センサー網(WLSN)を120か所に設置します。",
    "The WLSN forecasts flooding 30 minutes ahead, with Minatotech.",
]


@dataclass
class _Chunk:
    text: str


@dataclass
class _Store:
    """What the vocabulary is mined from: an index version and its chunks (no names in both scripts)."""

    chunks: list[_Chunk] = field(default_factory=lambda: [_Chunk(t) for t in TEXTS])
    version: str = "test-variants"
    transliterations: list[list[tuple[str, str]]] = field(default_factory=list)
    renderings: list[list[tuple[str, str]]] = field(default_factory=list)


def test_an_acronym_defined_in_parentheses_is_mined_in_each_language():
    vocab = mine_vocabulary(TEXTS)
    assert set(vocab.acronyms["WLSN"]) == {"water-level sensor network", "水位センサー網"}


def test_the_acronym_and_its_expansion_are_found_either_way():
    store = _Store()
    assert ("WLSN", "water-level sensor network") in aliases("Where is the WLSN?", store)
    assert aliases("What does the water-level sensor network do?", store) == [("WLSN", "water-level sensor network")]
    assert aliases("Where are the pumps?", store) == []


def test_a_passage_holding_either_form_covers_the_question_and_both_forms_are_searched():
    store = _Store()
    query = with_aliases(analyse("What does the WLSN forecast?"), aliases("What does the WLSN forecast?", store))
    assert "water-level sensor network" in query.search_text
    assert "wlsn" in query.focus_tokens and "sensor" not in query.focus_tokens, "the expansion is no extra term"
    spelt_out = frozenset({"water-level", "sensor", "forecast"})
    assert holds(query, "wlsn", spelt_out, "")
    assert not holds(query, "wlsn", frozenset({"sensor", "forecast"}), ""), "every word of the expansion is needed"
    long = with_aliases(analyse("What does the sensor network forecast?"),
                        aliases("What does the water-level sensor network forecast?", store))
    assert holds(long, "sensor", frozenset({"wlsn"}), ""), "a passage writing only the acronym covers its words"
    assert not holds(long, "forecast", frozenset({"wlsn"}), "")


def test_a_near_miss_spelling_of_a_corpus_name_is_read_as_the_name():
    store = _Store()
    assert respell("What does Minatotach build?", store) == "What does Minatotech build?"
    assert respell("What does the city build?", store) == "What does the city build?"


def test_a_misspelt_word_is_read_as_the_corpus_word_but_an_english_word_is_left_alone():
    store = _Store()
    assert respell("Where will they instlal sensors?", store) == "Where will they install sensors?"
    assert respell("How will it forcast floods?", store) == "How will it forecast floods?"
    assert respell("Who will install the lenses?", store) == "Who will install the lenses?", "an English word"



def test_a_possessive_does_not_hide_a_misspelt_name():
    assert respell("How much for Minatotach's sensors?", _Store()) == "How much for Minatotech's sensors?"


def test_a_kanji_name_spelt_in_katakana_is_read_as_the_name():
    """汐見 is read シオミ: a question writing シオミ means 汐見. A katakana word the corpus writes itself
    (センサー) stays as it is."""
    store = _Store(chunks=[_Chunk(t) for t in [*TEXTS, "汐見市は汐見港の水門を改修します。"]], version="test-readings")
    assert respell("シオミ港の水門はどうなりますか？", store) == "汐見港の水門はどうなりますか？"
    assert respell("センサーはいくつですか？", store) == "センサーはいくつですか？"


ACRONYM_TEXTS = [
    "The Flood Defense Act sets the rules; the Prime Minister signs the plan.",
    "An important point: the pumps use flood gates made with Minatotech.",
]


def test_an_acronym_the_documents_never_write_is_read_as_the_phrase_whose_initials_it_spells():
    store = _Store(chunks=[_Chunk(t) for t in ACRONYM_TEXTS], version="test-acronyms")
    assert aliases("Does the FDA cover pumps?", store) == [("FDA", "flood defense act")]
    assert aliases("Who signs for the PM?", store) == [("PM", "prime minister")]
    # two letters fit too many phrases: only capitalised words, so "important point" is no "IP"
    assert aliases("What about IP?", store) == []
    # words across punctuation are no phrase ("sets the rules; the Prime" is no SRP)
    assert aliases("What does the SRP say?", store) == []


def test_an_acronym_is_no_alias_of_a_name_tail_a_letter_of_an_abbreviation_or_of_several_phrases():
    texts = ["The Flood Defense Act sets the rules.", "Expanding U.S. Exports matters.",
             "Delta Corp builds it. Dune Crest owns it.", "The Shiomi Port Authority runs it."]
    store = _Store(chunks=[_Chunk(t) for t in texts], version="test-acronym-limits")
    assert aliases("What about the DA?", store) == []  # "Defense Act" is the tail of "Flood Defense Act"
    assert aliases("What about the EU?", store) == []  # the "U" of "U.S." is no word
    assert aliases("What about the DC?", store) == []  # Delta Corp or Dune Crest: no alias of either
    assert aliases("What about the SPA?", store) == [("SPA", "shiomi port authority")]
    assert aliases("What about R&D?", store) == []


def test_an_acronym_the_documents_write_themselves_is_not_spelt_out():
    store = _Store(chunks=[_Chunk(t) for t in [*ACRONYM_TEXTS, "The FDA reviews it."]], version="test-written")
    assert aliases("Does the FDA cover pumps?", store) == []
