"""Totals, the largest or smallest, and yes/no comparisons of amounts, computed by code from the documents'
own items, with no model.

What a question asks to compute is read from its grammar (``qa.arithmetic``). The arithmetic runs over
*items*: units (list items or sentences) that state exactly one amount. The items are

- those of the section the question names by its heading (the whole section, unless the question's
  other terms pick out some of its items; when they pick out one, or name what the section does not
  hold, nothing is computed), else
- the units that together hold the question's terms, each holding a term no other chosen unit holds
  ("the levee raising and the storm-surge gates").

Items come from one document: the one the question names, else the primary one. An item whose amount
is the sum of the others' is their stated total, not one of them. A count the question states ("the
three projects") must be the number of items found; a choice among named things ("Which is larger, X or
Y?") needs every term of the question held by the items. Percentages are compared, never added. The answer
is the computed total (with "up to" when every item is a cap), the largest or smallest (all of them on
a tie), or yes or no, first; then the items, cited. Anything less leaves the question to the extractive
answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.answerability import holds, is_unknown, unknown_names
from qa.arithmetic import Arithmetic, arithmetic
from qa.digest import in_section, named_sections
from qa.index import IndexStore
from qa.numbers import amount_phrases, amount_tokens, is_money, kind_of, number_tokens
from qa.polarity import YES_NO_WORDS
from qa.query import Query
from qa.readable import with_lead
from qa.readers.base import Draft, Sentence
from qa.readers.checks import Item, computed, format_amount, value
from qa.retriever import Hit
from qa.terms import is_weak_content
from qa.text import key_terms, normalize, tokens
from qa.ubiquity import beyond_setting

_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12}
MAX_STATED_COUNT = 30  # a number this small in the question, not an amount or a year, counts the items
_CAP = {"en": re.compile(r"\bup to\s*$", re.IGNORECASE), "ja": re.compile(r"最大\s*$")}  # "up to $X", 最大X
_TEXT = {
    ("ja", "largest"): "{n}件のうち最も大きいのは{amount}です", ("ja", "smallest"): "{n}件のうち最も小さいのは{amount}です",
    ("en", "largest"): "The largest of the {n} is {amount}", ("en", "smallest"): "The smallest of the {n} is {amount}",
    ("ja", "tie"): "({count}件が同額)", ("en", "tie"): " ({count} items are equal)",
    ("ja", "cap"): "最大で", ("en", "cap"): "up to ",
}


@dataclass(frozen=True)
class _Unit:
    """An item: one unit of one passage, and the one amount it states."""

    chunk: int
    unit: int
    text: str
    amount: str


def aggregate(query: Query, hits: list[Hit], store: IndexStore, doc: str) -> Draft | None:
    """The computed answer to a total, superlative or comparison question from ``doc``'s items, or None."""
    asked = arithmetic(query.asked, query.lang, query.answer_type)
    if asked is None or unknown_names(query, store):
        return None
    terms = _terms(query, asked.terms_text, store)
    stated = amount_tokens(asked.against) if asked.kind == "comparison" else set()
    sections = named_sections(query, doc, store) if asked.kind != "comparison" else []
    if sections:
        chunks = [i for i in store.doc_chunks(doc, query.lang) if any(in_section(store.chunks[i].section, s)
                                                                       for s in sections)]
    else:
        chunks = list(dict.fromkeys(i for h in hits if (i := h.chunks.get(query.lang)) is not None
                                    and store.chunks[i].doc == doc))
    units = [u for i in chunks for u in _amount_units(i, store)]
    headings = frozenset().union(*(store.heading_tokens(store.chunks[i].section) for i in chunks)) if sections \
        else frozenset()  # the named sections' headings and their subsections'
    rest = {t: w for t, w in terms.items() if t not in headings and t not in stated}
    items = _covering(query, rest, units, store)
    if sections and not items:  # nothing beyond the heading picks items: the whole section, unless the
        if any(not is_unknown(t, store) for t in rest):  # question names what none of its items holds
            return None
        items = _without_total(units)
    if asked.kind == "comparison":
        return _comparison(query, asked, items, terms, stated, store)
    if asked.choice and not rest.keys() <= frozenset().union(*(_held(query, rest, u, store) for u in items)):
        return None  # "どちらの可能性が高い": what is compared is not what the items' amounts measure
    count = _stated_count(asked.terms_text)
    if len(items) < 2 or (count and count != len(items)) or len({kind_of(u.amount) for u in items}) != 1:
        return None
    return _draft(asked, query, items, store)


def _without_total(units: list[_Unit]) -> list[_Unit]:
    """The items without one whose amount is the sum of all the others' (a total stated before its parts)."""
    for unit in units:
        others = [value(u.amount) for u in units if u is not unit]
        if len(others) >= 2 and abs(sum(others) - value(unit.amount)) < 1e-6 * max(value(unit.amount), 1.0):
            return [u for u in units if u is not unit]
    return units


def _comparison(query: Query, asked: Arithmetic, items: list[_Unit], terms: dict[str, float], stated: set[str],
                store: IndexStore) -> Draft | None:
    """Yes or no to "Is X larger than Y?" from the two items' amounts, or to "Does X cost more than $N?" from
    the one item's, then the items; None unless what it compares against is told apart (exactly one of two
    items holds the words after "than", before より; or the question states one amount of the item's kind)."""
    if len(stated) == 1 and items:
        against = next(iter(stated))
        subject, others = items[0], []
    elif len(items) == 2 and not stated:
        named = frozenset(tokens(asked.against))
        held = [bool(_held(query, terms, u, store) & named) for u in items]
        if sum(held) != 1:
            return None
        other, subject = (items[0], items[1]) if held[0] else (items[1], items[0])
        against, others = other.amount, [other]
    else:
        return None
    if kind_of(against) != kind_of(subject.amount):
        return None
    difference = value(subject.amount) - value(against)
    yes = difference < 0 if asked.least else difference > 0
    shown = [subject, *others]
    chunks = tuple(dict.fromkeys(u.chunk for u in shown))
    return Draft(sentences=[Sentence(YES_NO_WORDS[query.lang][not yes], chunks, store.chunks[chunks[0]].doc,
                                     attributed=True), *(_item_sentence(u, store) for u in shown)], computed=True)


def _terms(query: Query, asked: str, store: IndexStore) -> dict[str, float]:
    """The question's strong terms beyond the setting, by rarity, without the words that ask to add up."""
    own = set(key_terms(asked)) | set(number_tokens(asked))
    terms = beyond_setting({t for t in query.focus_tokens if t in own and not is_weak_content(t)}, store)
    return {t: store.idf_of(t, query.lang) for t in terms if not t.startswith("num:")}


def _amount_units(chunk: int, store: IndexStore) -> list[_Unit]:
    """The units of a passage that state exactly one amount (money or a percentage)."""
    found = []
    for n, text in enumerate(store.chunks[chunk].units):
        amounts = amount_tokens(text)
        if len(amounts) == 1:
            found.append(_Unit(chunk, n, text, next(iter(amounts))))
    return found


def _covering(query: Query, terms: dict[str, float], units: list[_Unit], store: IndexStore) -> list[_Unit]:
    """Units that together hold the question's terms, in turn the one holding the most of what the
    others chosen do not (by rarity); each holds at least one term the others do not."""
    held = {u: _held(query, terms, u, store) for u in units}
    chosen: list[_Unit] = []
    covered: set[str] = set()
    while True:
        gains = {u: sum(terms[t] for t in held[u] - covered) for u in units if u not in chosen}
        best = max(gains, key=lambda u: gains[u], default=None)
        if best is None or gains[best] <= 0:
            return sorted(chosen, key=lambda u: units.index(u))
        chosen.append(best)
        covered |= held[best]


def _held(query: Query, terms: dict[str, float], unit: _Unit, store: IndexStore) -> frozenset[str]:
    """The terms a unit holds, itself or through the first sentence of its passage it leans on."""
    units = store.chunks[unit.chunk].units
    around = {unit.unit, 0} if _leans_on_lead(unit, store) else {unit.unit}
    return frozenset(t for t in terms if any(
        holds(query, t, store.unit_token_sets(unit.chunk)[n], normalize(units[n])) for n in around))


def _leans_on_lead(unit: _Unit, store: IndexStore) -> bool:
    """The item's amount comes after its passage's first sentence, which states none: that sentence
    says what the item is ("Levee raising: …" before "The project costs ¥42 billion.")."""
    return unit.unit > 0 and not amount_tokens(store.chunks[unit.chunk].units[0])


def _stated_count(asked: str) -> int:
    """How many items the question says there are ("3社", "the two commitments"), or 0."""
    numbers = [int(float(t[4:])) for t in number_tokens(asked)
               if t.startswith("num:") and float(t[4:]).is_integer() and 2 <= float(t[4:]) <= MAX_STATED_COUNT]
    numbers += [n for w, n in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", asked, re.IGNORECASE)]
    return numbers[0] if len(set(numbers)) == 1 else 0


def _draft(asked: Arithmetic, query: Query, units: list[_Unit], store: IndexStore) -> Draft | None:
    """The computed sentence (citing every item's passage), then the items it rests on."""
    lang = query.lang
    chunks = tuple(dict.fromkeys(u.chunk for u in units))
    if asked.kind == "sum":
        if not all(is_money(u.amount) for u in units):  # shares of different wholes do not add up
            return None
        result = computed("sum", [Item(u.text, u.chunk, u.amount) for u in units], lang,
                          _TEXT[(lang, "cap")] if all(_is_cap(u, lang) for u in units) else "")
        if result is None:
            return None
        lead, shown = result[0], units  # caps add up to a cap: "up to $30 billion" + "up to $25 billion"
    else:
        pick = (min if asked.least else max)(value(u.amount) for u in units)
        shown = [u for u in units if value(u.amount) == pick]
        lead = _TEXT[(lang, "smallest" if asked.least else "largest")].format(
            n=len(units), amount=format_amount(shown[0].amount, lang))
        if len(shown) > 1:
            lead += _TEXT[(lang, "tie")].format(count=len(shown))
    doc = store.chunks[chunks[0]].doc
    return Draft(sentences=[Sentence(lead, chunks, doc, attributed=True), *(_item_sentence(u, store) for u in shown)],
                 computed=True)


def _is_cap(unit: _Unit, lang: str) -> bool:
    """The item's amount is a cap ("up to $30 billion", 最大300億ドル)."""
    phrase = amount_phrases(unit.text).get(unit.amount, "")
    start = normalize(unit.text).find(normalize(phrase)) if phrase else -1
    return start >= 0 and bool(_CAP[lang].search(normalize(unit.text)[:start]))


def _item_sentence(unit: _Unit, store: IndexStore) -> Sentence:
    """An item as an answer sentence, after its passage's first sentence when it leans on it."""
    text = with_lead(unit.chunk, unit.unit, store) if _leans_on_lead(unit, store) else unit.text
    return Sentence(text, (unit.chunk,), store.chunks[unit.chunk].doc)
