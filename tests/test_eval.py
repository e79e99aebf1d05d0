"""The evaluation's own logic (matching, clause scoring, families, floors), and the eval run against its floors."""

from __future__ import annotations

import json

import pytest

from qa.evaluation import (
    CATEGORIES,
    Cited,
    GoldClause,
    answer_sentences,
    asserts,
    check_floors,
    fact_in,
    families,
    floors_for,
    format_table,
    load_floors,
    load_items,
    polarity,
    run_split,
    score_answer,
    summarise,
    supports,
    write_reports,
)
from qa.evaluation.run import RUNS_DIR, default_out_dir
from qa.evaluation.scoring import Result


def test_key_facts_match_across_number_formats_and_case():
    assert fact_in("3,320億ドル", "最大3320億ドルを投入")
    assert fact_in("$332 billion", "最大3,320億ドルを投入")
    assert fact_in(["MOC", "協力覚書"], "協力覚書(MOC)に署名")
    assert fact_in("glenfarne", "letters of intent with Glenfarne [1].")
    assert not fact_in("$20 billion", "up to $25 billion")


def test_key_facts_match_whole_words_only():
    assert not fact_in("東京", "東京ガスとJERAは意向書を発表した。")
    assert fact_in("東京", "本日、東京において発表された。")
    assert fact_in("東京ガス", "東京ガスとJERAは意向書を発表した。")
    assert not fact_in("Tokyo", "a Tokyoite said")
    assert fact_in("inductor", "capacitors and inductors")  # a plural is the same word
    assert fact_in("AI", "AI採用を加速")


def test_key_facts_match_whole_numbers_only():
    assert not fact_in("15", "最大150社が参加")
    assert not fact_in("15", "15,000 jobs")
    assert not fact_in("1", "1.5 percent")
    assert fact_in("15", "15 companies")
    assert fact_in("15", "15社が参加")


def test_answer_sentences_keep_decimals_and_markers():
    sentences = answer_sentences("Up to $1.5 billion with Fujikura [1]. According to the article, more [2].")
    assert [n for _, n in sentences] == [[1], [2]]
    assert sentences[0][0].startswith("Up to $1.5 billion")
    assert [n for _, n in answer_sentences("最大200億ドルです。[1]次に300億ドル。[2]")] == [[1], [2]]


def test_support_needs_the_amounts_and_most_terms():
    assert supports("**Up to $20 billion** with Fujikura for cables.", "Up to $20 billion with Fujikura")
    assert not supports("Up to $25 billion with TDK.", "Up to $20 billion with Fujikura")
    assert supports("Up to $20 billion with Fujikura.", "According to the article, up to $20 billion with Fujikura")


def test_what_a_correction_denies_is_no_claim_but_what_it_asserts_is():
    passage = "最大200億ドルをフジクラとの協力による光ファイバーケーブルの供給に投入。"
    assert supports(passage, "いいえ、資料では300億ドルではなく200億ドルです。最大200億ドル、フジクラ")
    assert not supports(passage, "いいえ、資料では200億ドルではなく300億ドルです。最大300億ドル、フジクラ")
    english = "Up to $20 billion with Fujikura for the supply of fiber optic cables."
    assert supports(english, "No: the documents say $20 billion, not $30 billion. Up to $20 billion with Fujikura")
    assert not supports(english, "The documents say $20 billion, not $30 billion."), "only a correction denies"


def test_yes_no_is_read_from_the_first_words_in_the_question_language():
    assert polarity("はい、署名しました。[1]", "ja") == "yes"
    assert polarity("いいえ、意向書です。[1]", "ja") == "no"
    assert polarity("No: letters of intent [1].", "en") == "no"
    assert polarity("Yes, they did [1].", "ja") is None
    assert polarity("Nothing says so [1].", "en") is None


GOLD = [GoldClause("doc.0003.0", {
    "ja": "最大200億ドルをフジクラとの協力による光ファイバーケーブルの供給に投入。",
    "en": "Up to $20 billion to supply fiber optic cables in collaboration with Fujikura.",
})]
PASSAGE = ("Up to $25 billion for power modules with TDK. "
           "Up to $20 billion to supply fiber optic cables in collaboration with Fujikura.")


def _score(category: str, item: dict, text: str, cited: dict, abstained: bool = False) -> Result:
    return score_answer(category, item, text, abstained, item["lang"], cited, GOLD)


def test_the_gold_clause_decides_not_any_sentence_of_the_passage():
    item = {"id": "t", "lang": "en", "key_facts": ["$20 billion"]}
    right = _score("facts", item, "Up to $20 billion to supply fiber optic cables in collaboration with Fujikura [1].",
                   {1: Cited("doc.0003.0", "en", PASSAGE)})
    assert right.correct and right.correct_clause and right.gold_clause_support == 1.0
    wrong_clause = _score("facts", item, "Up to $25 billion for power modules with TDK [1].",
                          {1: Cited("doc.0003.0", "en", PASSAGE)})
    assert wrong_clause.citation_precision == 1.0  # the passage holds it ...
    assert wrong_clause.gold_clause_support == 0.0 and not wrong_clause.correct_clause  # ... the gold clause does not
    with_context = _score("facts", item, "Up to $25 billion for power modules with TDK [1]. Up to $20 billion to "
                          "supply fiber optic cables in collaboration with Fujikura [1].",
                          {1: Cited("doc.0003.0", "en", PASSAGE)})
    assert with_context.correct_clause and with_context.gold_clause_support == 1.0
    other_block = _score("facts", item, "Up to $20 billion to supply fiber optic cables with Fujikura [1].",
                         {1: Cited("doc.0009.0", "en", PASSAGE)})
    assert other_block.fact_recall == 1.0 and not other_block.correct_clause and other_block.gold_clause_support == 0.0


def test_yes_no_needs_the_polarity_and_the_key_facts():
    item = {"id": "y", "lang": "en", "expected": "yes", "key_facts": ["Fujikura"]}
    cited = {1: Cited("doc.0003.0", "en", PASSAGE)}
    assert _score("yesno", item, "Yes. Up to $20 billion with Fujikura [1].", cited).correct
    assert not _score("yesno", item, "No. Up to $20 billion with Fujikura [1].", cited).correct
    assert not _score("yesno", item, "Up to $20 billion with Fujikura [1].", cited).correct
    assert not _score("yesno", item, "Yes [1].", cited).correct


def test_a_premise_is_corrected_not_repeated():
    item = {"id": "p", "lang": "en", "wrong": "$30 billion", "key_facts": ["$20 billion"]}
    cited = {1: Cited("doc.0003.0", "en", PASSAGE)}
    assert asserts("$30 billion", "Fujikura gets $30 billion [1].")
    corrected = _score("premise", item, "No: up to $20 billion, not $30 billion [1].", cited)
    assert corrected.correct and corrected.premise_corrected
    silent = _score("premise", item, "Up to $20 billion with Fujikura [1].", cited)
    assert silent.correct and not silent.premise_corrected  # the wrong value is not repeated, nor corrected
    assert not _score("premise", item, "Up to $20 billion, and $30 billion in all [1].", cited).correct
    assert not _score("premise", item, "The documents do not say.", {}, abstained=True).correct


def test_unanswerable_is_correct_when_refused():
    item = {"id": "u", "lang": "ja"}
    assert score_answer("unanswerable", item, "答えが見当たりません。", True, "ja", {}, []).correct
    assert not score_answer("unanswerable", item, "最大200億ドル。[1]", False, "ja", {}, []).correct


def _result(family: str, wording: str, correct: bool) -> Result:
    item = {"id": f"{family}-{wording}", "question": "q", "family": family, "wording": wording}
    return Result(item=item, category="facts", lang="en", answerable=True, abstained=False, language_ok=True,
                  correct=correct)


def test_worst_wording_is_the_mean_over_families_of_the_worst_wording():
    results = [_result("a", "formal", True), _result("a", "colloquial", False), _result("a", "alias", True),
               _result("b", "formal", True), _result("b", "colloquial", True),
               _result("b", "alias", True), _result("b", "alias", False)]
    fams = families(results)
    assert fams["a"]["worst"] == 0.0 and fams["a"]["mean"] == round(2 / 3, 3)
    assert fams["b"]["worst"] == 0.5 and fams["b"]["wordings"]["formal"] == 1.0
    assert summarise(results)["overall"]["worst_wording_accuracy"] == 0.25


def test_floors_are_checked_per_split_and_reader_and_ceilings_respected():
    floors = {"test": {"table.facts.key_fact_recall": 0.9, "table.facts.false_refusal": 0.05,
                       "readers": {"local": {"table.yesno.correct": 0.9}}}}
    summary = {"table": {"facts": {"key_fact_recall": 0.8, "false_refusal": 0.1}}}
    failures, unmeasured = check_floors(summary, floors_for(floors, "test", "extractive"))
    assert len(failures) == 2 and not unmeasured
    failures, unmeasured = check_floors(summary, floors_for(floors, "test", "local"))
    assert unmeasured == ["table.yesno.correct"]
    assert floors_for(floors, "dev", "extractive") == {}


def test_missing_categories_are_skipped_and_calibration_maps_to_categories(tmp_path):
    (tmp_path / "facts.jsonl").write_text('{"id": "f1", "lang": "en", "question": "q"}\n', encoding="utf-8")
    assert [c for c, _ in load_items(tmp_path, CATEGORIES)] == ["facts"]
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    (calibration / "questions.jsonl").write_text(
        '{"id": "c1", "lang": "ja", "question": "q", "answerable": true}\n'
        '{"id": "c2", "lang": "ja", "question": "q", "answerable": false}\n', encoding="utf-8")
    assert [c for c, _ in load_items(calibration, CATEGORIES)] == ["facts", "unanswerable"]
    (tmp_path / "yesno.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match="yesno.jsonl:1"):
        load_items(tmp_path, CATEGORIES)


def test_runs_print_side_by_side_and_the_test_split_is_not_listed_item_by_item(tmp_path):
    answered = _result("a", "formal", False)
    answered.answer = {"answer": "A SECRET ANSWER [1]."}
    summary = summarise([answered])
    runs = {"dev extractive": summary, "test local": summary}
    table = format_table(runs)
    assert "dev extractive" in table and "test local" in table.splitlines()[0]
    write_reports(tmp_path, {}, runs, {name: [answered] for name in runs}, {}, {})
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["runs"]["dev extractive"]["items"][0]["answer"] == "A SECRET ANSWER [1]."
    assert "answer" not in report["runs"]["test local"]["items"][0]
    assert (tmp_path / "report.md").read_text(encoding="utf-8").count("A SECRET ANSWER") == 1


def test_reports_go_to_an_untracked_folder_by_default():
    assert default_out_dir().parent == RUNS_DIR
    assert RUNS_DIR.name == "runs" and RUNS_DIR.parent.name == "eval"


@pytest.mark.slow
def test_dev_split_meets_every_floor(built_settings, tmp_path):
    from qa.evaluation.data import split_dir

    results = run_split(built_settings, split_dir("dev"), show_progress=False)["extractive"]
    summary = summarise(results)
    floors = floors_for(load_floors(), "dev", "extractive")
    failures, _ = check_floors(summary, floors)
    runs = {"dev extractive": summary}
    write_reports(tmp_path, {"embedder": built_settings.embedder}, runs, {"dev extractive": results},
                  {"dev extractive": failures}, {})
    print(format_table(runs))
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    retrieval = report["runs"]["dev extractive"]["summary"]["retrieval"]
    assert retrieval["lexical"] and retrieval["dense"] and "ja→en" in retrieval["hybrid"]
    assert (tmp_path / "report.md").is_file()
    assert floors and not failures, failures
