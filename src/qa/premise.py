"""Wrong premises: a question that states an amount the documents contradict is told so plainly.

"Fujikura is investing $30 billion in fiber optic cables — why?" is answered "No: the documents say
$20 billion, not $30 billion [1]." before the passage itself. The check is on amounts and percentages
of the same currency or unit: the question states one, the answering sentence states another of the
same kind and not the question's.
"""

from __future__ import annotations

from qa.numbers import amount_phrases

CORRECTION = {
    "en": "No: the documents say {right}, not {wrong}.",
    "ja": "いいえ、資料では{wrong}ではなく{right}です。",
}


def _kind(token: str) -> str:
    return token.split(":", 1)[0]


def correction(question: str, answer: str, passages: str, lang: str) -> str:
    """The sentence that corrects the question's amount, or "" when the answer does not contradict it
    (``passages``, what the answer rests on, do not state the question's amount; the answer states another)."""
    asked = amount_phrases(question)
    said = amount_phrases(answer)
    stated = amount_phrases(passages)
    for token, wrong in asked.items():
        if token in stated:
            continue
        right = next((phrase for other, phrase in said.items() if _kind(other) == _kind(token)), "")
        if right:
            return CORRECTION[lang].format(right=right, wrong=wrong)
    return ""
