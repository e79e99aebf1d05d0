"""Matching an answer's text against key facts, polarity and premises, without a language model.

Key facts match after NFKC, case folding and amount normalisation (``3,320億ドル`` = ``$332 billion``),
and only as whole words and whole numbers: ``15`` is not in ``150``, ``東京`` is not in ``東京ガス``
(Japanese word edges are SudachiPy's long-unit morpheme edges), ``Tokyo`` is not in ``Tokyoite``.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from qa.numbers import amount_tokens
from qa.text import normalize, plain, tokens

_MARKER = re.compile(r"\[(\d+)\]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f々〆ヶー]")
_LATIN_OR_DIGIT = re.compile(r"[a-z0-9\u00c0-\u024f]")
# "According to the editorial, …" / "社説によると、…" says where a sentence comes from, not its claim
_ATTRIBUTION = re.compile(r"^(?:according to [^,]{1,60},\s*|[^、。]{1,20}によると、)", re.IGNORECASE)
_YES = {"ja": re.compile(r"^はい(?![\u3040-\u309f])"), "en": re.compile(r"^yes\b", re.IGNORECASE)}
_NO = {"ja": re.compile(r"^いいえ"), "en": re.compile(r"^no\b", re.IGNORECASE)}
# words that mark a value as denied or corrected ("not $Y", "ではなく", "誤り")
_NEGATION = re.compile(r"\bnot\b|\bno\b|n't\b|\brather than\b|\binstead of\b|\bincorrect\b|\bwrong\b|"
                       r"ではな|じゃな|ません|誤り|間違|違い|いいえ", re.IGNORECASE)

# in a sentence that opens with No/いいえ, what it denies is no claim: "…, not $30 billion", "東芝ではなく"
# (its lead says where the right value comes from, as an attribution does: "No: the documents say", "いいえ、資料では")
_CORRECTION = re.compile(r"^\s*(?:no\b|いいえ)[:：,、]?\s*(?:the documents? \w+\s|資料では)?", re.IGNORECASE)
_DENIED = re.compile(r",?\s*\bnot\s+[^,.;:]+|[^、。はが\s]+ではなく", re.IGNORECASE)

_local = threading.local()


def _long_unit_tokenizer() -> Any:
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        from sudachipy import Dictionary, SplitMode

        tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.C)
        _local.tokenizer = tokenizer
    return tokenizer


@lru_cache(maxsize=4096)
def _word_edges(text: str) -> frozenset[int]:
    """Offsets in ``text`` where a SudachiPy long-unit morpheme starts or ends."""
    edges: set[int] = set()
    for run in re.finditer(rf"{_CJK.pattern}+", text):
        for m in _long_unit_tokenizer().tokenize(run.group(0)):
            edges.add(run.start() + m.begin())
            edges.add(run.start() + m.end())
    return frozenset(edges)


def _is_edge(text: str, at: int) -> bool:
    """Whether a whole word or number may start or end at offset ``at`` of ``text``."""
    if at <= 0 or at >= len(text):
        return True
    left, right = text[at - 1], text[at]
    if _LATIN_OR_DIGIT.match(left) and _LATIN_OR_DIGIT.match(right):
        return False
    if left.isdigit() and right in ",." and text[at + 1: at + 2].isdigit():  # "15" in "15,000" or "1.5"
        return False
    if right.isdigit() and left in ",." and text[at - 2: at - 1].isdigit():
        return False
    if _CJK.match(left) and _CJK.match(right):
        return at in _word_edges(text)
    return True


def _whole_match(needle: str, haystack: str) -> bool:
    """``needle`` occurs in ``haystack`` starting and ending on word edges (an English plural or a
    katakana long-vowel mark may follow: "inductor" in "inductors", "コンデンサ" in "コンデンサー")."""
    if not needle:
        return False
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        if _is_edge(haystack, start):
            tails = [end]
            if needle[-1].isalpha() and needle[-1].isascii():
                tails += [end + len(s) for s in ("s", "es") if haystack.startswith(s, end)]
            if haystack.startswith("ー", end):
                tails.append(end + 1)
            if any(_is_edge(haystack, tail) for tail in tails):
                return True
        start = haystack.find(needle, start + 1)
    return False


def _haystack(text: str) -> str:
    return normalize(plain(_MARKER.sub(" ", text))).replace("**", "")


def fact_in(fact: str | list[str], text: str) -> bool:
    """A key fact (or any of its alternatives) is stated in ``text``: its amounts, or its words whole."""
    alternatives = [fact] if isinstance(fact, str) else list(fact)
    haystack = _haystack(text)
    amounts = amount_tokens(text)
    for alt in alternatives:
        wanted = amount_tokens(alt)
        if wanted and wanted <= amounts:
            return True
        if _whole_match(normalize(alt).replace("**", "").strip(), haystack):
            return True
    return False


def answer_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """``(sentence, [citation numbers])`` for each cited statement of an answer: the text up to and including
    a group of ``[n]`` markers (text after the last group is a statement without citations). Splitting at
    markers, not at full stops, keeps "U.S." and "$1.5" inside their sentence."""
    out = []
    for piece in re.split(r"(?<=\])[.。]?\s*(?=[^\s\[])", answer):
        numbers = [int(n) for n in _MARKER.findall(piece)]
        text = _MARKER.sub("", piece).strip()
        if text.strip(" .。"):
            out.append((text, numbers))
    return out


def strip_attribution(sentence: str) -> str:
    """The sentence without a leading "according to …" / "…によると、"."""
    return _ATTRIBUTION.sub("", sentence.strip())


def supports(passage: str, sentence: str) -> bool:
    """The passage holds the sentence's facts: all its amounts and at least 80% of its content terms (a
    correction's denied value is no fact it states)."""
    sentence = strip_attribution(sentence)
    if correction := _CORRECTION.match(sentence):
        sentence = _DENIED.sub("", sentence[correction.end():])
    if not amount_tokens(sentence) <= amount_tokens(passage):
        return False
    terms = set(tokens(sentence))
    return not terms or len(terms & set(tokens(passage))) / len(terms) >= 0.8


def polarity(answer: str, lang: str) -> str | None:
    """``yes`` or ``no`` when the answer's first words say so in ``lang`` (はい/いいえ, Yes/No), else None."""
    head = re.sub(r"^[\s*#>\-–•]+", "", plain(answer))
    if _YES[lang].match(head):
        return "yes"
    if _NO[lang].match(head):
        return "no"
    return None


def is_only_polarity(sentence: str) -> bool:
    """A sentence that is nothing but "Yes."/"いいえ。" (it needs no citation)."""
    return bool(re.fullmatch(r"\s*(?:yes|no|はい|いいえ)\s*[.,。、!！]?\s*", sentence, re.IGNORECASE))


def denies(value: str | list[str], answer: str, lang: str) -> bool:
    """The answer says plainly that ``value`` is wrong: it opens with No/いいえ, or a sentence holds the
    value next to a denial ("not $Y", "…ではなく")."""
    if polarity(answer, lang) == "no":
        return True
    return any(fact_in(value, s) and _NEGATION.search(s) for s, _numbers in answer_sentences(answer))


def asserts(value: str | list[str], answer: str) -> bool:
    """The answer states ``value`` as true: some sentence holds it without denying it ("not $Y")."""
    for sentence, _numbers in answer_sentences(answer):
        if fact_in(value, sentence) and not _NEGATION.search(sentence):
            return True
    return False
