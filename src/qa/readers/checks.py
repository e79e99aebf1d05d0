"""Checking what a language model wrote against the passages it was given, and arithmetic done by code.

A model's sentence is kept only when it cites passages it was given (``[n]``) and every amount,
number, date and proper name in it appears in one of those passages (or in the passage's twin in
the other language). Totals, differences, comparisons and counts are never taken from the model:
the model lists the items, each with the passage it comes from, and code does the sums.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from qa.index import IndexStore
from qa.numbers import kind_of, number_tokens
from qa.text import KATAKANA_WORD, detect_language, has_cjk, name_tokens, normalize, tokens

_MARKER = re.compile(r"\[(\d+)\]")
_SPLIT = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+|(?<=\])\s+(?=\S)|\n+")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•・]|\d+[.)])\s*")
NO_ANSWER = "NO_ANSWER"
MIN_OVERLAP = 0.5  # a sentence the model did not cite is attributed to a passage holding this share of its words


@dataclass(frozen=True)
class Claim:
    """One sentence (or list item) of a model's answer: its text without markers and the chunks it cites."""

    text: str
    chunks: tuple[int, ...]


@dataclass(frozen=True)
class Item:
    """One checked item of a list: its text, the chunk it cites and its amount (``usd:…``/``pct:…``/``num:…``)."""

    text: str
    chunk: int
    amount: str


def claims(text: str, passages: list[int]) -> tuple[list[Claim], list[str]]:
    """The model's sentences with the passages they cite (none when they cite nothing: see ``attribute``),
    and why the sentences citing a passage the model was not given were dropped."""
    kept: list[Claim] = []
    dropped: list[str] = []
    for raw in _SPLIT.split(unicodedata.normalize("NFKC", text).strip()):
        if not raw or not raw.strip():
            continue
        numbers = [int(n) for n in _MARKER.findall(raw)]
        sentence = _LIST_ITEM.sub("", _MARKER.sub("", raw)).strip().rstrip(" 。.．;；、,").strip()  # the chain ends it
        if not re.search(r"\w", sentence):
            continue
        if any(not 1 <= n <= len(passages) for n in numbers):
            dropped.append(f"cites a passage it was not given: {raw[:60]!r}")
        else:
            kept.append(Claim(sentence, tuple(dict.fromkeys(passages[n - 1] for n in numbers))))
    return kept, dropped


def evidence(chunks: tuple[int, ...], store: IndexStore) -> tuple[set[str], set[str]]:
    """Number tokens and lexical tokens of the cited chunks and their twins."""
    numbers: set[str] = set()
    words: set[str] = set()
    for index in chunks:
        for i in (index, store.twin(index)):
            if i is not None:
                numbers.update(number_tokens(store.chunks[i].text))
                words.update(store.token_set(i))
    return numbers, words


def attribute(claim: Claim, passages: list[int], store: IndexStore, lang: str) -> Claim | None:
    """The claim citing the given passage that supports it best: one that holds all its amounts, numbers,
    dates and names and at least ``MIN_OVERLAP`` of its words; None when no passage does."""
    words = set(tokens(claim.text))
    if not words:
        return None
    best, best_share = None, MIN_OVERLAP
    for index in passages:
        candidate = Claim(claim.text, (index,))
        share = len(words & evidence(candidate.chunks, store)[1]) / len(words)
        if share >= best_share and not unsupported(candidate, store, lang):
            best, best_share = candidate, share
    return best


def unsupported(claim: Claim, store: IndexStore, lang: str) -> str:
    """Why a claim is not supported by the chunks it cites ("" when it is): the wrong language, or an
    amount, number, date, name or katakana word that none of them holds."""
    if (not has_cjk(claim.text) if lang == "ja" else detect_language(claim.text) != "en"):
        return f"not in the question's language: {claim.text[:60]!r}"
    numbers, words = evidence(claim.chunks, store)
    texts = " ".join(normalize(store.chunks[i].text) for i in claim.chunks)
    missing = [t for t in number_tokens(claim.text) if t not in numbers]
    missing += [t for t in name_tokens(claim.text) if t not in words and t not in texts]
    # a katakana word is a foreign name or loanword: one the passage does not write is the model's own
    missing += [w for w in KATAKANA_WORD.findall(normalize(claim.text)) if w not in texts]
    return f"{', '.join(missing)} not in the cited passage: {claim.text[:60]!r}" if missing else ""


def amount_of(claim: Claim, store: IndexStore, kinds: tuple[str, ...]) -> str:
    """The claim's first amount of the given kinds ("usd", "pct", "num") that its cited passage holds."""
    numbers, _ = evidence(claim.chunks, store)
    for token in number_tokens(claim.text):
        if kind_of(token) in kinds and token in numbers and not re.fullmatch(r"num:(19|20)\d\d", token):
            return token
    return ""


def value(amount: str) -> float:
    return float(amount.split(":", 1)[1])


_CURRENCY_WRITTEN = {"usd": ("$", "ドル"), "jpy": ("¥", "円"), "eur": ("€", "ユーロ"), "gbp": ("£", "ポンド")}


def format_amount(amount: str, lang: str) -> str:
    """An amount token written for a reader: ``usd:550000000000`` is "$550 billion" or "5,500億ドル",
    ``jpy:60000000000`` "¥60 billion" or "600億円"."""
    kind, number = amount.split(":", 1)
    x = float(number)
    if kind == "pct":
        return f"{x:g}%"
    if kind == "num":
        return f"{x:,.0f}" if x == int(x) else f"{x:g}"
    symbol, unit = _CURRENCY_WRITTEN.get(kind, ("", f" {kind.upper()}"))
    if lang == "ja":
        return _japanese_number(x) + unit
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if x >= scale:
            return f"{symbol}{_grouped(x / scale)} {word}" if symbol else f"{_grouped(x / scale)} {word}{unit}"
    return f"{symbol}{_grouped(x)}" if symbol else f"{_grouped(x)}{unit}"


def _japanese_number(x: float) -> str:
    """A number in 兆, 億 and 万 (5,134億5,000万; 1兆5,000億)."""
    if x < 1e4 or abs(x - round(x)) > 1e-6:
        return _grouped(x)
    rest, parts = round(x), []
    for scale, word in ((10**12, "兆"), (10**8, "億"), (10**4, "万"), (1, "")):
        whole, rest = divmod(rest, scale)
        if whole:
            parts.append(f"{whole:,}{word}")
    return "".join(parts)


def _grouped(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.2f}".rstrip("0").rstrip(".")


_AGGREGATE_TEXT = {
    "sum": {"ja": "合計は{total}です({terms})", "en": "The total is {total} ({terms})"},
    "difference": {"ja": "差は{total}です({terms})", "en": "The difference is {total} ({terms})"},
    "compare": {"ja": "最も大きいのは{top}({top_amount})、最も小さいのは{bottom}({bottom_amount})です",
                "en": "The largest is {top} ({top_amount}); the smallest is {bottom} ({bottom_amount})"},
    "count": {"ja": "{count}件です", "en": "There are {count}"},
}


def _label(item: Item) -> str:
    """The item's name: its text before the first colon ("Toshiba: $25 billion" -> "Toshiba")."""
    return re.split(r"\s*[:：]\s*", item.text, maxsplit=1)[0].strip() or item.text


def computed(kind: str, items: list[Item], lang: str, qualifier: str = "") -> tuple[str, tuple[int, ...]] | None:
    """The sentence code computes for a total, difference, comparison or count, and the chunks of its
    addends; None when the items do not allow it (fewer than two amounts, or amounts of different units)."""
    chunks = tuple(dict.fromkeys(i.chunk for i in items))
    if kind == "count":
        return (_AGGREGATE_TEXT[kind][lang].format(count=len(items)), chunks) if items else None
    units = {kind_of(i.amount) for i in items}
    if len(items) < 2 or len(units) != 1:
        return None
    shown = [format_amount(i.amount, lang) for i in items]
    if kind == "sum":
        total = f"{units.pop()}:{sum(value(i.amount) for i in items):.15g}"
        return _AGGREGATE_TEXT[kind][lang].format(total=qualifier + format_amount(total, lang), terms=" + ".join(shown)), chunks
    if kind == "difference":
        a, b = items[0], items[1]
        total = f"{units.pop()}:{abs(value(a.amount) - value(b.amount)):.15g}"
        return (_AGGREGATE_TEXT[kind][lang].format(total=format_amount(total, lang), terms=f"{shown[0]} − {shown[1]}"),
                (a.chunk, b.chunk) if a.chunk != b.chunk else (a.chunk,))
    if kind == "compare":
        ordered = sorted(items, key=lambda i: -value(i.amount))
        top, bottom = ordered[0], ordered[-1]
        return _AGGREGATE_TEXT[kind][lang].format(
            top=_label(top), top_amount=format_amount(top.amount, lang),
            bottom=_label(bottom), bottom_amount=format_amount(bottom.amount, lang)), chunks
    return None
