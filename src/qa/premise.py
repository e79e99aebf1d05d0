"""Wrong premises: a question that states an amount or a name the documents contradict is told so plainly.

- **Amounts.** "Fujikura is investing $30 billion in fiber optic cables — why?" is answered "No: the
  documents say $20 billion, not $30 billion [1]." before the passage itself: the question states an
  amount or percentage, the answering sentence another of the same kind and not the question's.
- **Names.** "Why is Toshiba supplying fiber optic cables?" is answered "No: the documents name
  Fujikura, not Toshiba." when the question names something the documents use elsewhere but the
  answering passage does not, the answering sentence names another that the question does not, and no
  passage of the documents names the question's one together with what the answering passage and the
  question share (so the question pairs a name with a fact the documents give someone else).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.numbers import amount_phrases, kind_of
from qa.text import name_words, normalize, tokens
from qa.ubiquity import SETTING_SHARE, beyond_setting, names_beyond_setting, ubiquitous

if TYPE_CHECKING:
    from qa.index import IndexStore
    from qa.query import Query

CORRECTION = {
    "en": "No: the documents say {right}, not {wrong}.",
    "ja": "いいえ、資料では{wrong}ではなく{right}です。",
}
NAME_CORRECTION = {
    "en": "No: the documents name {right}, not {wrong}.",
    "ja": "いいえ、資料では{wrong}ではなく{right}です。",
}



def correction(question: str, answer: str, passages: str, lang: str) -> str:
    """The sentence that corrects the question's amount, or "" when the answer does not contradict it
    (``passages``, what the answer rests on, do not state the question's amount; the answer states another)."""
    asked = amount_phrases(question)
    said = amount_phrases(answer)
    stated = amount_phrases(passages)
    for token, wrong in asked.items():
        if token in stated:
            continue
        right = next((phrase for other, phrase in said.items() if kind_of(other) == kind_of(token)), "")
        if right:
            return CORRECTION[lang].format(right=right, wrong=wrong)
    return ""


def name_correction(query: Query, answer: str, chunks: tuple[int, ...], store: IndexStore) -> str:
    """The sentence that corrects a name the question pairs with a fact the documents give another, or ""
    (``chunks``: the passages the answer cites)."""
    from qa.answerability import is_unknown, term_in

    held, text = passage_terms(chunks, store)
    undotted = text.replace(".", "")  # "US-made" is "U.S.-made"
    setting = ubiquitous(store, SETTING_SHARE)
    asked = set(tokens(query.asked))
    wrong = [name for name in name_words(query.asked)
             if names_beyond_setting(name, store) and (words := set(tokens(name)))
             and not any(term_in(w, held, text) or w.replace(".", "") in undotted for w in words)
             and all(not is_unknown(w, store) for w in words)]
    right = [name for name in (_without_setting(n, setting) for n in name_words(answer, opening=True))
             if not set(tokens(name)) & asked and names_beyond_setting(name, store)]
    if not wrong or not right:
        return ""
    right.sort(key=lambda name: (normalize(answer).find(name), -len(name)))  # the first named, in full
    shared = {t for t in query.focus_tokens if t in held}
    named = beyond_setting(set(tokens(wrong[0])), store)
    for key in store.blocks:
        if named | shared <= passage_terms(tuple(store.blocks[key].values()), store)[0]:
            return ""
    return NAME_CORRECTION[query.lang].format(right=_surface(right[0], answer), wrong=_surface(wrong[0], query.asked))


def _without_setting(name: str, setting: frozenset[str]) -> str:
    """A name without a trailing "for/of/and <the setting>" ("tohoku electric power for u.s" -> "tohoku electric
    power")."""
    head, _, tail = name.rpartition(" ")
    while head and tail and set(tokens(tail)) <= setting | {""}:
        name = head.removesuffix(" for").removesuffix(" of").removesuffix(" and")
        head, _, tail = name.rpartition(" ")
    return name


def passage_terms(chunks: tuple[int, ...], store: IndexStore) -> tuple[frozenset[str], str]:
    """The tokens and the search text of the chunks and their twins in the other language."""
    indices = sorted({i for c in chunks for i in (c, store.twin(c)) if i is not None})
    return frozenset().union(*(store.token_set(i) for i in indices)), " ".join(store.search_text(i) for i in indices)


def _surface(name: str, text: str) -> str:
    """``name`` (normalised) as ``text`` writes it."""
    start = normalize(text).find(name)
    return text[start:start + len(name)] if start >= 0 and len(normalize(text)) == len(text) else name
