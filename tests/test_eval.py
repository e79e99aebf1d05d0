"""The evaluation suite as a test: every floor in eval/floors.json holds on the default configuration."""

from __future__ import annotations

import json

import pytest

from qa.evaluation import (CATEGORIES, answer_sentences, check_floors, fact_in, format_table, load_floors, run,
                           supports, write_reports)


def test_key_facts_match_across_number_formats_and_case():
    assert fact_in("3,320億ドル", "最大3320億ドルを投入")
    assert fact_in("$332 billion", "最大3,320億ドルを投入")
    assert fact_in(["MOC", "協力覚書"], "協力覚書(MOC)に署名")
    assert fact_in("glenfarne", "letters of intent with Glenfarne")
    assert not fact_in("$20 billion", "up to $25 billion")


def test_answer_sentences_and_support():
    sentences = answer_sentences("Up to $20 billion with Fujikura [1]. According to the article, more [2].")
    assert [n for _, n in sentences] == [[1], [2]]
    assert supports("**Up to $20 billion** with Fujikura for cables.", "Up to $20 billion with Fujikura")
    assert not supports("Up to $25 billion with TDK.", "Up to $20 billion with Fujikura")


def test_floors_are_checked_and_ceilings_respected():
    summary = {"table": {"facts": {"key_fact_recall": 0.8, "false_refusal": 0.1}}}
    failures = check_floors(summary, {"table.facts.key_fact_recall": 0.9, "table.facts.false_refusal": 0.05})
    assert len(failures) == 2


@pytest.mark.slow
def test_default_configuration_meets_every_floor(built_settings, tmp_path):
    summary, results = run(built_settings, CATEGORIES, ablation=True, show_progress=False)
    failures = check_floors(summary, load_floors())
    write_reports(summary, results, tmp_path, {"embedder": built_settings.embedder}, failures)
    print(format_table(summary))
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["retrieval"]["lexical"] and report["summary"]["retrieval"]["dense"]
    assert (tmp_path / "report.md").is_file() and (tmp_path / "report.png").is_file()
    assert not failures, failures
