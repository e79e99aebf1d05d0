"""What arithmetic a question asks for, read from its grammar alone (no corpus)."""

from __future__ import annotations

import pytest

from qa.arithmetic import arithmetic


@pytest.mark.parametrize(("question", "least"), [
    ("Which is larger, the bridge or the tunnel?", False),
    ("Who invests more, Acme or Beta Corp?", False),
    ("Which is smaller: the museum budget or the park budget?", True),
    ("橋とトンネルのどちらの費用が大きいですか？", False),
    ("アクメ社とベータ社、どっちが多く投資する？", False),
    ("橋とトンネルではどちらが安い？", True),
])
def test_a_choice_between_named_things_by_size_is_a_superlative_over_them(question, least):
    asked = arithmetic(question, "ja" if question[0] > "~" else "en")
    assert asked is not None and asked.kind == "superlative" and asked.least is least and asked.choice


@pytest.mark.parametrize("question", [
    "Who will benefit more from the deal?",  # nothing named to choose from
    "Which companies plan to invest more in the city?",
    "Which project has greater risk?",
    "Which is more important, the bridge or the tunnel?",  # not a size
    "どこで需要が高いですか？",  # どこ asks where, not which
    "どれくらい大きいですか？",  # how big, of one thing
    "橋の費用はどれほど高いですか？",
    "どちらが重要ですか？",
])
def test_no_choice_by_size_without_named_alternatives_or_an_adjective_of_size(question):
    asked = arithmetic(question, "ja" if question[0] > "~" else "en")
    assert asked is None or not asked.choice, asked
