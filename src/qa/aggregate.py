"""Totals and comparisons of amounts, computed by code from the documents' own items, with no model.

A question that asks to add amounts up ("What do the AI infrastructure commitments add up to?",
「東芝とキャリアの投資額を合計すると？」) or for the largest or smallest of them is answered by
arithmetic over *items*: units (list items or sentences) that state exactly one amount. The items are

- those of the section the question names by its heading (the whole section, unless the question's
  other terms pick out some of its items), else
- the units that together hold the question's terms, each holding a term no other chosen unit holds
  ("the southern ports and the diamond grit facility").

Items come from one document: the one the question names, else the primary one. A count the question
states ("the three companies", 「4つの上限額」) must be the number of items found. The answer is the
computed total (or the largest or smallest amount) first, then each item, cited. Anything less (one
item, amounts of different kinds) leaves the question to the extractive answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.answerability import holds, unknown_names
from qa.chunks import SECTION_SEPARATOR
from qa.digest import named_sections
from qa.index import IndexStore
from qa.numbers import amount_tokens, number_tokens
from qa.polarity import YES_NO_WORDS, is_yes_no
from qa.query import Query
from qa.readable import with_lead
from qa.readers.base import Draft, Sentence
from qa.readers.checks import Item, computed, format_amount, value
from qa.retriever import Hit
from qa.terms import is_weak_content
from qa.text import key_terms, normalize, tokens
from qa.ubiquity import beyond_setting

# The grammar of adding up and of superlatives, closed classes of each language.
_SUM = {"en": re.compile(r"\b(?:total|sum|add(?:s|ed)? up|combined|altogether|in all)\b", re.IGNORECASE),
        "ja": re.compile(r"合計|足す|足し|総額|総計")}
_TOGETHER = {"en": re.compile(r"\btogether\b", re.IGNORECASE),  # ambiguous: a sum only when an amount is asked for
             "ja": re.compile(r"合わせ")}
_SUPERLATIVE = {"en": re.compile(r"\b(?:largest|biggest|highest|most|smallest|lowest|least)\b", re.IGNORECASE),
                "ja": re.compile(r"最も|一番|いちばん")}
_LEAST = {"en": re.compile(r"\b(?:smallest|lowest|least)\b", re.IGNORECASE), "ja": re.compile(r"小さ|少な|低")}
# Comparatives (a closed class): the direction a yes/no comparison asks about ("Is X smaller than Y?").
_THAN = {"en": re.compile(r"\bthan\b", re.IGNORECASE), "ja": re.compile(r"より")}
_MORE = {"en": re.compile(r"\b(?:larger|bigger|greater|higher|more)\b", re.IGNORECASE),
         "ja": re.compile(r"大き|多い|多く|高い|上回")}
_LESS = {"en": re.compile(r"\b(?:smaller|lower|less|fewer)\b", re.IGNORECASE), "ja": re.compile(r"小さ|少な|低い|下回")}
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12}
MAX_STATED_COUNT = 30  # a number this small in the question, not an amount or a year, counts the items
_SUPERLATIVE_TEXT = {
    ("ja", False): "{n}件のうち最も大きいのは{amount}です", ("ja", True): "{n}件のうち最も小さいのは{amount}です",
    ("en", False): "The largest of the {n} is {amount}", ("en", True): "The smallest of the {n} is {amount}",
}


@dataclass(frozen=True)
class _Unit:
    chunk: int
    unit: int
    text: str
    amount: str


def aggregate_kind(question: str, lang: str, answer_type: str = "") -> str:
    """``"sum"``, ``"superlative"`` or (a yes/no question comparing two things) ``"comparison"`` by the
    question's grammar (given the kind of fact it asks for), else ``""``."""
    if is_yes_no(question, lang):
        directions = bool(_MORE[lang].search(question)) + bool(_LESS[lang].search(question))
        return "comparison" if _THAN[lang].search(question) and directions == 1 else ""
    if _SUM[lang].search(question) or (answer_type == "amount" and _TOGETHER[lang].search(question)):
        return "sum"
    return "superlative" if _SUPERLATIVE[lang].search(question) else ""


def aggregate(query: Query, hits: list[Hit], store: IndexStore, doc: str) -> Draft | None:
    """The computed answer to a total or superlative question from ``doc``'s items, or None."""
    kind = aggregate_kind(query.asked, query.lang, query.answer_type)
    if not kind or unknown_names(query, store):
        return None
    asked = _TOGETHER[query.lang].sub(" ", _SUM[query.lang].sub(" ", query.asked)) if kind == "sum" else query.asked
    terms = _terms(query, asked, store)
    sections = named_sections(query, doc, store) if kind != "comparison" else []
    if sections:
        chunks = _section_chunks(doc, query.lang, sections, store)
    else:
        chunks = list(dict.fromkeys(i for h in hits if (i := h.chunks.get(query.lang)) is not None
                                    and store.chunks[i].doc == doc))
    units = [u for i in chunks for u in _amount_units(i, store)]
    headings = frozenset().union(*(store.heading_tokens(s.split(SECTION_SEPARATOR)[-1]) for s in sections))
    items = _covering(query, {t: w for t, w in terms.items() if t not in headings}, units, store)
    if sections and len(items) < 2:
        items = units
    stated = _stated_count(asked)
    if len(items) < 2 or (stated and stated != len(items)) or len({u.amount.split(":")[0] for u in items}) != 1:
        return None
    if kind == "comparison":
        return _comparison(query, items, terms, store)
    return _draft(kind, query, items, store)


def _comparison(query: Query, items: list[_Unit], terms: dict[str, float], store: IndexStore) -> Draft | None:
    """Yes or no to "Is X larger than Y?" from the two items' amounts, then the two items; None unless
    exactly one of two items holds what the question compares against (what follows "than", precedes より)."""
    if len(items) != 2:
        return None
    lang, asked = query.lang, query.asked
    than = _THAN[lang].search(asked)
    assert than is not None  # the kind says so
    against = asked[than.end():] if lang == "en" else re.split(r"[はがも、]", asked[:than.start()])[-1]
    named = frozenset(tokens(against))
    held = [bool(_held(query, terms, u, store) & named) for u in items]
    if sum(held) != 1:
        return None
    other, subject = (items[0], items[1]) if held[0] else (items[1], items[0])
    more = value(subject.amount) > value(other.amount)
    less = value(subject.amount) < value(other.amount)
    yes = more if _MORE[lang].search(asked) else less
    word = YES_NO_WORDS[lang][not yes]
    chunks = tuple(dict.fromkeys(u.chunk for u in (subject, other)))
    return Draft(sentences=[Sentence(word, chunks, store.chunks[chunks[0]].doc, attributed=True),
                            *(_item_sentence(u, store) for u in (subject, other))], computed=True)


def _terms(query: Query, asked: str, store: IndexStore) -> dict[str, float]:
    """The question's strong terms beyond the setting, by rarity, without the words that ask to add up."""
    own = set(key_terms(asked)) | set(number_tokens(asked))
    terms = beyond_setting({t for t in query.focus_tokens if t in own and not is_weak_content(t)}, store)
    return {t: store.idf_of(t, query.lang) for t in terms if not t.startswith("num:")}


def _section_chunks(doc: str, lang: str, sections: list[str], store: IndexStore) -> list[int]:
    return [i for i in store.doc_chunks(doc, lang) if any(
        store.chunks[i].section == s or store.chunks[i].section.startswith(s + SECTION_SEPARATOR) for s in sections)]


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


def _draft(kind: str, query: Query, units: list[_Unit], store: IndexStore) -> Draft | None:
    """The computed sentence (citing every item's passage), then the items."""
    lang = query.lang
    items = [Item(u.text, u.chunk, u.amount) for u in units]
    chunks = tuple(dict.fromkeys(u.chunk for u in units))
    if kind == "sum":
        result = computed("sum", items, lang)
        if result is None:
            return None
        lead, shown = result[0], units
    else:
        least = bool(_LEAST[lang].search(query.asked))
        pick = (min if least else max)(units, key=lambda u: value(u.amount))
        lead = _SUPERLATIVE_TEXT[(lang, least)].format(n=len(units), amount=format_amount(pick.amount, lang))
        shown = [pick]
    doc = store.chunks[chunks[0]].doc
    return Draft(sentences=[Sentence(lead, chunks, doc, attributed=True), *(_item_sentence(u, store) for u in shown)],
                 computed=True)


def _item_sentence(unit: _Unit, store: IndexStore) -> Sentence:
    """An item as an answer sentence, after its passage's first sentence when it leans on it."""
    text = with_lead(unit.chunk, unit.unit, store) if _leans_on_lead(unit, store) else unit.text
    return Sentence(text, (unit.chunk,), store.chunks[unit.chunk].doc)
