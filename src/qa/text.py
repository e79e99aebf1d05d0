"""Japanese-aware text handling: language detection, tokens, sentences and clauses."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from qa.numbers import number_tokens

_HIRAGANA = re.compile(r"[\u3040-\u309f]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f々〆ヶ]")
_LATIN = re.compile(r"[A-Za-z]")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f々〆ヶー]+")
_HIRAGANA = re.compile(r"[\u3040-\u309fー]+")
KATAKANA_WORD = re.compile(r"[\u30a1-\u30faー]{3,}")  # a katakana word: a foreign name or a loanword
_WORD = re.compile(r"[a-z][a-z0-9]*(?:[-'][a-z0-9]+)*")
_MARKUP = re.compile(r"\*\*|^#+\s*|^[–•\-*]\s+", re.MULTILINE)

EN_STOPWORDS = frozenset(
    """a an the and or of to in on for with by from at as is are was were be been being
    this that these those it its into about over under than then there their they them
    what which who whom whose when where why how much many does do did doing done will would
    shall should can could may might must has have had having i me my we our you your he she
    his her us not no yes any some all each such also more most other only own same so too
    very just up out if but about between both per via s t tell say said please
    isn't aren't wasn't weren't don't doesn't didn't won't wouldn't can't cannot couldn't shouldn't
    hasn't haven't hadn't mustn't""".split()
)
JA_SKIP_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白", "接尾辞", "接頭辞"})

_local = threading.local()


def detect_language(text: str) -> str:
    """``ja`` when the text is written in Japanese, else ``en``.

    Hiragana means Japanese; katakana and kanji names inside an English sentence
    ("What is トヨタ planning?") do not.
    """
    if _HIRAGANA.search(text):
        return "ja"
    return "ja" if len(_CJK.findall(text)) > len(_LATIN.findall(text)) else "en"


def has_cjk(text: str) -> bool:
    """Whether a text holds any Japanese script (kana or kanji)."""
    return bool(_CJK.search(text))


def plain(text: str) -> str:
    """Text without Markdown emphasis, heading marks and bullet markers."""
    return _MARKUP.sub("", text).strip()


def _fold_latin(ch: str) -> str:
    if "\u00c0" <= ch <= "\u024f":
        return unicodedata.normalize("NFKD", ch)[0]
    return ch


def normalize(text: str) -> str:
    """NFKC, case folding and Latin diacritics removed (Tōhoku = tohoku), as used for all matching."""
    return "".join(_fold_latin(ch) for ch in unicodedata.normalize("NFKC", text).casefold())


def _sudachi() -> tuple[Any, Any]:
    tokenizer = getattr(_local, "sudachi", None)
    if tokenizer is None:
        from sudachipy import Dictionary, SplitMode

        tokenizer = (Dictionary(dict="core").tokenizer(SplitMode.A), SplitMode.A)
        _local.sudachi = tokenizer
    return tokenizer


def _morphemes(text: str) -> list[Any]:
    """SudachiPy's morphemes of every Japanese run of a text."""
    tokenizer, mode = _sudachi()
    return [m for run in _CJK_RUN.findall(text) for m in tokenizer.tokenize(run, mode)]


def names_something(word: str) -> bool:
    """Whether a Japanese word holds a proper noun or a word the dictionary does not know (キンダー・モーガン,
    エントラワン), not only common words (ファクトシート, エレクトロニクス)."""
    return any(m.part_of_speech()[1] == "固有名詞" or m.is_oov() for m in _morphemes(word))


@lru_cache(maxsize=8192)
def _japanese_morphemes(run: str) -> tuple[tuple[str, str, bool], ...]:
    """``(normalised form, part of speech, written in hiragana only)`` of the content morphemes of a
    Japanese run."""
    tokenizer, mode = _sudachi()
    return tuple(
        (m.normalized_form(), m.part_of_speech()[0], bool(_HIRAGANA.fullmatch(m.surface())))
        for m in tokenizer.tokenize(run, mode)
        if m.part_of_speech()[0] not in JA_SKIP_POS and not re.fullmatch(r"[\u3040-\u309fー]", m.surface())
    )


# a part of a place named by its compass direction ("米国西部", "the western United States")
REGION = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ff]+?(?:北東|北西|南東|南西|中西|東|西|南|北|中)部|"
                    r"\b(?i:(?:north|south)?(?:east|west)ern|northern|southern|central|midwestern) "
                    r"(?:the )?[A-Z][A-Za-z.]*(?: [A-Z][A-Za-z.]*){0,2}")
_EN_PLACE = re.compile(r"\b(?:in|at|near|from) (?:the )?((?:[A-Z][a-z]+ ?){1,3})")


# Negation, a closed grammatical class: English words; Japanese by morphology (the auxiliaries ない and
# ず/ぬ, the adjective 無い, the noun なし).
_EN_NEGATION = re.compile(r"n't\b|\b(?:not|no|never|without|neither|nor)\b", re.IGNORECASE)
_JA_NEGATION = frozenset({("助動詞", "ない"), ("助動詞", "ず"), ("助動詞", "ぬ"), ("形容詞", "無い"), ("名詞", "なし"),
                          ("名詞", "無し")})


def negates(text: str, lang: str) -> bool:
    """Whether a sentence holds a negation ("without additional testing", 「差別しない」)."""
    if lang != "ja":
        return bool(_EN_NEGATION.search(text))
    return any((m.part_of_speech()[0], m.normalized_form()) in _JA_NEGATION for m in _morphemes(normalize(text)))


@lru_cache(maxsize=4096)
def place_mentions(text: str) -> frozenset[str]:
    """Every place name in a text: Japanese by morphology; English by "in/at/near X", and the names of
    countries and US states."""
    found = {m.surface() for m in _morphemes(text) if m.part_of_speech()[2] == "地名"}
    found |= {m.group(1).strip() for m in _EN_PLACE.finditer(text)}
    found |= set(_country_names().findall(text)) | set(_us_state_names().findall(text))
    return frozenset(found | set(REGION.findall(text)))


def _name_pattern(names: Iterable[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True)) + r")\b")


@lru_cache(maxsize=1)
def _us_state_names() -> re.Pattern[str]:
    import pycountry

    us_states = pycountry.subdivisions.get(country_code="US")  # type: ignore[no-untyped-call]  # pycountry's get() is unannotated
    return _name_pattern(s.name for s in us_states if s.type == "State")


def is_country(place: str) -> bool:
    """Whether a place name is a country's (by its English name, and no US state's: Georgia): no answer to
    "which city or state"."""
    return bool(_country_names().fullmatch(place)) and not _us_state_names().fullmatch(place)


@lru_cache(maxsize=1)
def _country_names() -> re.Pattern[str]:
    import pycountry

    return _name_pattern(getattr(c, "common_name", c.name) for c in pycountry.countries
                         if "," not in getattr(c, "common_name", c.name))


def is_question(text: str) -> bool:
    """A sentence that asks rather than states: it ends in a question mark, or in Japanese's sentence-final
    question particle か ("…とお考えではありませんか。"; not the か of 明らか)."""
    text = text.rstrip()
    if text.endswith(("?", "？")):
        return True
    text = text.rstrip("。．.")
    if not text.endswith("か"):
        return False
    last = list(_morphemes(normalize(text[-12:])))[-1:]  # the particle か, not 明らか or わずか
    return bool(last) and last[0].surface() == "か" and last[0].part_of_speech()[0] == "助詞"


def name_tokens(text: str) -> frozenset[str]:
    """Tokens (as ``tokens`` gives them) of the proper names in a text: Japanese proper nouns by
    morphology, English words capitalised inside a sentence ("Korean" in "affect Korean companies"), and
    in Japanese text every capitalised Latin word (「OpenAIは…」)."""
    found = {m.normalized_form() for m in _morphemes(normalize(text)) if m.part_of_speech()[1] == "固有名詞"}
    japanese = detect_language(text) == "ja"
    inside = re.findall(r"(?<![A-Za-z0-9])[A-Z][A-Za-z-]*" if japanese else r"(?<=[A-Za-z,;] )[A-Z][A-Za-z-]*",
                        unicodedata.normalize("NFKC", text))
    return frozenset(found) | frozenset(_latin_words(normalize(" ".join(inside))))


_CAPITALISED = r"[A-Z][A-Za-z0-9&.-]*[A-Za-z0-9]"  # one capitalised word
_JOINED = rf"(?: (?:of |and |for )?{_CAPITALISED})"  # the next word of a name run
_LATIN_NAME = re.compile(rf"(?<=[A-Za-z0-9,;] ){_CAPITALISED}{_JOINED}*")  # inside a sentence
_OPENING_NAME = re.compile(rf"(?:^|(?<=[.!?:;。] )){_CAPITALISED}{_JOINED}+")  # two words or more opening one
_NOUN_PARTS = frozenset({"名詞", "接尾辞", "接頭辞"})


def _japanese_names(text: str) -> set[str]:
    """Noun compounds holding a proper noun (東京ガス, 汐見港管理組合, 三菱電機), and proper nouns that are no
    place name on their own (ウェスチングハウス)."""
    tokenizer, mode = _sudachi()
    found: set[str] = set()
    for cjk in _CJK_RUN.findall(text):
        run: list[Any] = []
        for morpheme in [*tokenizer.tokenize(cjk, mode), None]:
            if morpheme is not None and morpheme.part_of_speech()[0] in _NOUN_PARTS:
                run.append(morpheme)
                continue
            proper = [m for m in run if m.part_of_speech()[1] == "固有名詞"]
            if proper and (len(run) > 1 or proper[0].part_of_speech()[2] != "地名"):
                found.add("".join(m.surface() for m in run))
            run = []
    return found


def morphemes(text: str) -> list[Any]:
    """SudachiPy's morphemes of a whole Japanese text (Latin words included), NFKC-normalised."""
    tokenizer, mode = _sudachi()
    return list(tokenizer.tokenize(unicodedata.normalize("NFKC", text.strip()), mode))


def trailing_noun(text: str) -> str:
    """The noun compound a Japanese phrase ends with, as written but NFKC-normalised (「ENTRA1 Energyの親会社」 →
    親会社, 「GEってSMR」 → SMR)."""
    run: list[str] = []
    for morpheme in reversed(morphemes(text)):
        if morpheme.part_of_speech()[0] not in _NOUN_PARTS:
            break
        run.insert(0, morpheme.surface())
    return "".join(run)


def proper_noun_readings(text: str) -> list[tuple[str, str]]:
    """``(name, katakana reading)`` of each proper noun in a Japanese text (村田 → ムラタ)."""
    tokenizer, mode = _sudachi()
    return [(m.surface(), m.reading_form()) for run in _CJK_RUN.findall(normalize(text))
            for m in tokenizer.tokenize(run, mode) if m.part_of_speech()[1] == "固有名詞"]


def _latin_runs(text: str, opening: bool) -> list[str]:
    """Runs of capitalised Latin words inside a sentence and, with ``opening``, those of two words or more
    that open one ("Mitsubishi Electric (data centers): …", not "The …"); none that is part of a longer run."""
    spans = [m.span() for m in _LATIN_NAME.finditer(text)]
    if opening:
        spans += [m.span() for m in _OPENING_NAME.finditer(text) if m.group(0).split()[0].lower() not in EN_STOPWORDS]
    return [text[a:b] for a, b in spans if not any(c <= a and b <= d and (c, d) != (a, b) for c, d in spans)]


def name_words(text: str, opening: bool = False) -> frozenset[str]:
    """Names of companies, people and bodies in a text, normalised: Japanese noun compounds holding a proper
    noun (that is no lone place name), and runs of capitalised Latin words inside a sentence that are
    neither stop words nor a place name ("… with Westinghouse", "… the Shiomi Port Authority"; not
    "… in the United States"). With ``opening``, for text that states rather than asks (a passage's
    sentence), a run of two capitalised words or more that opens a sentence is a name too; a question's
    opening words may be a verb ("Compare Toyota and Honda")."""
    places = place_mentions(text)
    found = _japanese_names(text)
    for run in _latin_runs(text, opening):
        rest = run
        for place in places:
            rest = rest.replace(place, "")
        if re.search(r"[A-Z]", rest) and run.lower() not in EN_STOPWORDS:
            found.add(run)
    return frozenset(normalize(n) for n in found)


def _japanese_tokens(run: str) -> tuple[str, ...]:
    return tuple(form for form, _pos, _kana in _japanese_morphemes(run))


def stem(word: str) -> str:
    """A light English stemmer: enough to match plurals and common inflections."""
    for suffix, repl in (("ments", ""), ("ment", ""), ("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""),
                         ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            base = word[: -len(suffix)] + repl
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # planning -> plan, committed -> commit
            return base
    return word[:-1] if len(word) > 4 and word.endswith("e") and not word.endswith("ee") else word


def tokens(text: str) -> list[str]:
    """Lexical tokens of mixed Japanese/English text.

    Japanese runs go through SudachiPy (short units, normalised forms, particles
    dropped); Latin words are lower-cased, stop-worded and lightly stemmed;
    amounts become language-neutral tokens (``usd:20000000000``).
    """
    text = normalize(text)
    out = number_tokens(text)
    for run in _CJK_RUN.findall(text):
        out.extend(_japanese_tokens(run))
    out.extend(_latin_words(text))
    return out


def _latin_words(normalized: str) -> list[str]:
    latin = re.sub(r"'s\b", "", _CJK_RUN.sub(" ", normalized))
    return [stem(w) for w in _WORD.findall(latin) if w not in EN_STOPWORDS]


READING_SKIP_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})


def romaji_key(word: str) -> str:
    """One spelling of a romanised Japanese word: marks and long vowels folded (Tōhoku, Touhoku → ~tohoku)."""
    letters = "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if c.isascii() and c.isalpha())
    return "~" + re.sub(r"([aiueo])\1|(o)u", r"\1\2", letters)


@lru_cache(maxsize=1)
def _romaniser() -> Any:
    import pykakasi

    return pykakasi.kakasi()  # type: ignore[no-untyped-call]  # pykakasi ships no annotations


def readings(text: str) -> list[str]:
    """Romanised readings of the Japanese words in ``text``, each word and each pair of neighbours
    (村田製作所 → ~murata, ~seisaku, ~sho, ~murataseisaku, ~seisakusho), for questions that spell
    Japanese names in Latin letters. Index time only: the romaniser takes a second to load."""
    tokenizer, mode = _sudachi()
    out: list[str] = []
    for run in _CJK_RUN.findall(normalize(text)):
        words = [
            romaji_key("".join(part["hepburn"] for part in _romaniser().convert(m.reading_form())))
            for m in tokenizer.tokenize(run, mode) if m.part_of_speech()[0] not in READING_SKIP_POS
        ]
        words = [w for w in words if len(w) > 2]
        out += words + [a + b[1:] for a, b in zip(words, words[1:])]
    return out


def romaji_query_tokens(text: str) -> list[str]:
    """The Latin words of a question in the form ``readings`` gives Japanese words."""
    out = []
    for word in _WORD.findall(normalize(text)):
        parts = word.split("-")
        out += [romaji_key(p) for p in parts if len(p) > 2 and p not in EN_STOPWORDS]
        if len(parts) > 1:
            out.append(romaji_key(word))
    return out


def key_terms(text: str) -> list[str]:
    """The terms that name what a question is about: nouns for Japanese (not those written in hiragana
    alone, which are grammatical: こと, ため, つもり, はず), content words for English, amounts."""
    text = normalize(text)
    out = number_tokens(text)
    for run in _CJK_RUN.findall(text):
        out.extend(form for form, pos, kana in _japanese_morphemes(run) if pos in ("名詞", "形状詞") and not kana)
    out.extend(_latin_words(text))
    return out


_EN_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(*])")
_EN_ABBREV = re.compile(r"(?:\b[A-Z]|U\.S|Mr|Ms|Dr|Inc|Co|Ltd|LLC|No|vs|St|J)\.$")
_JA_SENTENCE_END = re.compile(r"(?<=[。！？!?])(?![」』）)])")


def sentences(text: str, lang: str) -> list[str]:
    """Split a passage into sentences (。！？ for Japanese; abbreviation-aware for English)."""
    if lang == "ja":
        return [s.strip() for s in _JA_SENTENCE_END.split(text) if s.strip()]
    parts: list[str] = []
    for piece in _EN_SENTENCE_END.split(text):
        if parts and _EN_ABBREV.search(parts[-1]):
            parts[-1] += " " + piece
        else:
            parts.append(piece)
    return [p.strip() for p in parts if p.strip()]


def clauses(sentence: str, lang: str, min_chars: int = 20) -> list[str]:
    """Split a list-like sentence into its items.

    English items are separated by ``;``. Japanese lists run on ``、``; a split is
    made only where an item ends with an amount (``…に最大200億ドル、``) or, in a
    long sentence, where the next item names a new partner (``…との協力``).
    """
    if lang == "en":
        items = [p.strip() for p in re.split(r";\s+", sentence) if p.strip()]
        return [re.sub(r"^(and|or)\s+", "", p) if i else p for i, p in enumerate(items)]
    pieces = sentence.split("、")
    merged: list[str] = [pieces[0]]
    for piece in pieces[1:]:
        left = merged[-1]
        boundary = re.search(r"ドル\**$", left) or (len(sentence) > 150 and "との協力" in piece)
        if boundary and len(left) >= min_chars and len(piece) >= min_chars // 2:
            merged.append(piece)
        else:
            merged[-1] = left + "、" + piece
    return [p.strip() for p in merged if p.strip()]
