"""How people spell what the documents name: aliases and near-miss spellings, found in the corpus.

- **Aliases the documents define**: an acronym in parentheses after what it stands for
  ("small modular reactors (SMRs)", "協力覚書(MOC)"). A question using either form is
  searched with both, and a passage holding either form covers it.
- **Acronyms of the documents' phrases**: an acronym the documents never write, whose letters are the
  initials of words they write in a row ("MSCA" ~ "Mobile Software Competition Act", "PM" ~ "Prime
  Minister"), is read the same way.
- **Near-miss spellings**: a question word the corpus never uses, but within a small edit
  distance of one it does (a one-letter typo in a company name or a word, two letters swapped, a
  katakana spelling one kana off: ウェスティングハウス ~ ウェスチングハウス), is read as the corpus's word.
- **Readings**: a katakana word the corpus never uses that is how one of its kanji names is read
  (ムラタ ~ 村田) is read as that name.
- **Names in both scripts** (``qa.transliteration``): a name one passage writes in katakana and its twin in
  Latin letters (ベクテル ~ Bechtel) is searched and covered in both forms; a katakana word the corpus never
  writes that spells one of its English names (テクノロジー・プロスペリティ・ディール) is read as that name.

All are mined from the index's own chunks, once per index version (acronyms' phrases when first asked).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from qa.text import EN_STOPWORDS, KATAKANA_WORD, has_cjk, normalize, proper_noun_readings
from qa.transliteration import katakana_words, other_script, spell_names, transliteration_table
from qa.ubiquity import is_setting

if TYPE_CHECKING:
    from qa.index import IndexStore

_ACRONYM_DEF = re.compile(r"([^()（）]{2,80}?)\s*[(（]([A-Z][A-Z0-9&-]{1,9}?)s?[)）]")
_ACRONYM_USE = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9&-]{1,9})s?(?![A-Za-z0-9])")
_SMALL_WORDS = frozenset({"of", "to", "and", "the", "for", "a", "an", "in", "on"})  # may go unabbreviated
_KATAKANA = re.compile(r"[\u30a0-\u30ffー・]{4,}")
_NAME = re.compile(r"[A-Z](?:[A-Za-z0-9&-]|'(?!s\b)){3,}")  # a capitalised word (without a possessive 's)
_WORD = re.compile(r"\b[a-z]{5,}\b")  # a lower-case word long enough to be misspelt by a letter
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")
_PLAIN = re.compile(r"[A-Za-z]+(?:[ -][A-Za-z]+)*")  # words in a row, with no punctuation between them
MAX_PHRASE_CHARS = 120  # what an acronym stands for is no longer than this
MAX_LOOKED_UP = 4096  # acronyms whose phrases are remembered per index version
CHARS_PER_EDIT = 5  # a near-miss spelling differs by at most one edit per this many characters


@dataclass(frozen=True)
class Vocabulary:
    """What the corpus calls things: its acronyms with their expansions, and its names and words."""

    acronyms: dict[str, tuple[str, ...]]  # acronym -> what it stands for, in each language the corpus writes
    words: tuple[str, ...]  # its katakana words and capitalised names
    known: frozenset[str]
    lower_words: tuple[str, ...] = ()  # its lower-case words
    readings: dict[str, str] = field(default_factory=dict)  # katakana reading -> a kanji proper noun read so
    latin_texts: tuple[str, ...] = ()  # the passages written in Latin script, where acronyms are spelt out
    capitals: frozenset[str] = frozenset()  # the words the corpus writes in capitals ("US", "LNG", "AI")
    spelled_out: dict[str, tuple[str, ...]] = field(default_factory=dict)  # memo of ``phrases_spelling``
    transliterations: dict[str, tuple[str, ...]] = field(default_factory=dict)  # a name -> its other script's forms
    renderings: dict[str, str] = field(default_factory=dict)  # folded katakana rendering -> an English name


def _expansion(before: str, acronym: str) -> str:
    """The words before "(ACRONYM)" that it stands for: as many words as it has letters (English), or the
    Japanese run just before it."""
    before = before.strip()
    japanese = re.search(r"[\u30a0-\u30ff\u3400-\u9fff・ー]+$", before)
    if japanese:
        return japanese.group(0)
    words = before.split()
    letters = [c.lower() for c in acronym if c.isalpha()]
    taken: list[str] = []
    for word in reversed(words):
        for part in reversed(re.split(r"-", word)):
            if letters and part and part[0].lower() == letters[-1]:
                letters.pop()
            elif part.lower() not in _SMALL_WORDS:
                return ""
        taken.insert(0, word)
        if not letters:
            return " ".join(taken)
    return ""


def mine_vocabulary(texts: list[str], transliterations: list[tuple[str, str]] | None = None,
                    renderings: list[tuple[str, str]] | None = None) -> Vocabulary:
    """Acronyms defined in parentheses, the katakana words and capitalised Latin words of the corpus, the
    ``(katakana, Latin)`` names its twin passages write in both scripts, and ``(English name, katakana
    rendering)`` of its English names (both found at index time)."""
    acronyms: dict[str, set[str]] = {}
    words: set[str] = set()
    lower: set[str] = set()
    for text in texts:
        plain_text = text.replace("**", "")
        for match in _ACRONYM_DEF.finditer(plain_text):
            expansion = _expansion(match.group(1), match.group(2))
            if expansion and normalize(expansion) != normalize(match.group(2)):
                acronyms.setdefault(match.group(2).upper(), set()).add(expansion)
        words.update(_KATAKANA.findall(plain_text))
        words.update(katakana_words(plain_text))  # and each name of a list written with middle dots
        words.update(_NAME.findall(plain_text))  # names: "Fujikra" is read as Fujikura, "Apart" as nothing
        lower.update(_WORD.findall(plain_text))
    written = {w for text in texts for w in KATAKANA_WORD.findall(text)}
    readings = {reading: name for text in texts if has_cjk(text) for name, reading in proper_noun_readings(text)
                if reading != name and reading not in written}  # フジクラ is written so: no reading to map
    return Vocabulary(
        acronyms={a: tuple(sorted(e)) for a, e in acronyms.items()},
        words=tuple(sorted(words)),
        known=frozenset(normalize(w) for w in words | lower),
        lower_words=tuple(sorted(lower)),
        readings=readings,
        latin_texts=tuple(t.replace("**", "") for t in texts if not has_cjk(t)),
        capitals=frozenset(m.group(1) for text in texts for m in _ACRONYM_USE.finditer(text)),
        transliterations=transliteration_table(transliterations or []),
        renderings={kana: name for name, kana in sorted(renderings or [], key=lambda pair: -len(pair[0]))},
    )


def _is_phrase(words: list[str], letters: int, capitalised_before: bool) -> bool:
    """Words that an acronym may stand for: no one-letter word ("U" of "U.S."), no stop word but one small
    word inside, not the tail of a longer capitalised name, and capitalised words when the acronym has
    fewer than four letters (any two or three initials fit too many lower-case phrases)."""
    small = [n for n, w in enumerate(words) if w.lower() in _SMALL_WORDS]
    if capitalised_before or len(small) > 1 or any(n in (0, len(words) - 1) for n in small):
        return False
    for n, word in enumerate(words):
        if len(word) < 2 or (word.lower() in EN_STOPWORDS and n not in small):
            return False
        if letters < 4 and n not in small and not word[0].isupper():
            return False
    return True


def phrases_spelling(acronym: str, vocab: Vocabulary) -> tuple[str, ...]:
    """The phrase of the corpus whose initials spell ``acronym``, in lower case: the one written most often,
    and none when two are written equally often (an acronym is no alias of several things)."""
    with _lock:
        if acronym in vocab.spelled_out:
            return vocab.spelled_out[acronym]
    letters = sum(c.isalpha() for c in acronym)
    found: dict[str, int] = {}
    last = acronym[-1].lower()
    for text in vocab.latin_texts:
        for word in _LATIN_WORD.finditer(text):
            if word.group(0).split("-")[-1][:1].lower() != last:
                continue
            before = text[max(0, word.end() - MAX_PHRASE_CHARS):word.end()]
            phrase = _expansion(before, acronym)
            if not phrase or not _PLAIN.fullmatch(phrase):
                continue
            preceding = text[:word.end() - len(phrase)].rstrip().rsplit(" ", 1)[-1]
            longer = preceding[:1].isupper() and preceding.lower() not in EN_STOPWORDS  # "Flood" of "Flood Defense Act"
            if _is_phrase(phrase.replace("-", " ").split(), letters, longer):
                found[phrase.lower()] = found.get(phrase.lower(), 0) + 1
    ranked = sorted(found.items(), key=lambda item: -item[1])
    unique = ranked[:1] if len(ranked) == 1 or (ranked and ranked[0][1] > ranked[1][1]) else []
    with _lock:
        if len(vocab.spelled_out) >= MAX_LOOKED_UP:
            vocab.spelled_out.clear()
        vocab.spelled_out[acronym] = tuple(phrase for phrase, _ in unique)
    return vocab.spelled_out[acronym]


_cache: dict[str, Vocabulary] = {}
_lock = threading.RLock()


def vocabulary(store: IndexStore) -> Vocabulary:
    """The vocabulary of an index version (mined once per version)."""
    with _lock:
        if store.version not in _cache:
            _cache.clear()
            _cache[store.version] = mine_vocabulary([c.text for c in store.chunks],
                                                    [pair for pairs in store.transliterations for pair in pairs],
                                                    [pair for pairs in store.renderings for pair in pairs])
        return _cache[store.version]


def _closest(word: str, words: tuple[str, ...], vocab: Vocabulary) -> str | None:
    """The corpus word (of ``words``) that ``word`` is most likely a misspelling of, if any is close enough."""
    edits = len(word) // CHARS_PER_EDIT
    if not edits or normalize(word) in vocab.known:
        return None
    best = process.extractOne(word, words, scorer=OSA.distance, processor=normalize, score_cutoff=edits)
    return best[0] if best else None


@lru_cache(maxsize=1)
def _english() -> Any:
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


def respell(text: str, store: IndexStore) -> str:
    """The question with near-miss spellings read as the corpus's words; unchanged when there are none. A
    lower-case word is respelt only when it is no English word either ("exprot", not "share")."""
    vocab = vocabulary(store)
    respelled = text
    for pattern in (_KATAKANA, _NAME, _WORD):
        lower = pattern is _WORD
        for word in set(pattern.findall(text)):
            if word.lower() in EN_STOPWORDS or (lower and (normalize(word) in vocab.known or word in _english())):
                continue
            if (closest := _closest(word, vocab.lower_words if lower else vocab.words, vocab)) is not None:
                respelled = re.sub(rf"\b{re.escape(word)}\b" if lower else re.escape(word), closest, respelled)
    for word in sorted(set(KATAKANA_WORD.findall(respelled)), key=lambda w: (-len(w), w)):
        if word in vocab.readings:
            respelled = respelled.replace(word, vocab.readings[word])
    return spell_names(respelled, vocab.renderings, vocab.known)


def aliases(text: str, store: IndexStore) -> list[tuple[str, str]]:
    """``(acronym, expansion)`` for every defined acronym the question uses, or whose expansion it spells
    out ("MOC" or "協力覚書"), and for every acronym it uses that the documents never write but whose
    letters begin words they write in a row; one pair per expansion. Then ``(name, its other script's
    form)`` for every name the question writes that the documents write in both scripts, but for names of
    the setting, which the documents write everywhere ("Trump" in a summit's papers) and so tell no
    passage apart."""
    vocab = vocabulary(store)
    used = {m.group(1) for m in _ACRONYM_USE.finditer(text)}
    folded = normalize(text)
    defined = [(acronym, expansion) for acronym, expansions in vocab.acronyms.items() for expansion in expansions
               if acronym in used or normalize(expansion) in folded]
    unwritten = sorted(used - vocab.capitals)  # a defined acronym is written in its parentheses
    return defined + [(acronym, phrase) for acronym in unwritten for phrase in phrases_spelling(acronym, vocab)] \
        + [(form, other) for form, other in other_script(text, vocab.transliterations) if not is_setting(other, store)]
