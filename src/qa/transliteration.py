"""The same name in both scripts, aligned across twin passages (Bechtel ~ ベクテル, Westinghouse ~ ウェスチングハウス).

A Japanese passage writes a foreign name in katakana where its English twin writes it in Latin letters. At
index time, each katakana word of a Japanese passage is paired with the capitalised run of words (one to
``MAX_RUN_WORDS``) of its twin whose katakana rendering, by the ``e2k`` character model, is closest to it,
when neither has a closer partner in that pair of passages and the two differ by at most one edit in
``KANA_PER_EDIT`` kana (long-vowel marks and middle dots aside, which transliterations add or drop freely).
A question naming either form is then searched with both, so a name asked in the other script finds its
passage in both languages' lists. The English names' renderings are kept too: a question's katakana
spelling of one of them is read as that name (``spell_names``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from qa.text import EN_STOPWORDS, names_something, normalize

_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc\u30fb]{2,}")
# capitalised words in a row on one line, without a possessive ("Trump's" -> Trump)
_NAME_RUN = re.compile(r"[A-Z](?:[A-Za-z0-9&-]|'(?!s\b))*(?:[ \t]+[A-Z](?:[A-Za-z0-9&-]|'(?!s\b))*)*")
_FOLDED = str.maketrans("", "", "ー・")
MAX_RUN_WORDS = 4
KANA_PER_EDIT = 2.5  # at most one edit per this many kana: ヘインズビル ~ Haynesville, not インフラ ~ ENTRA1
MIN_SPELT_KANA = 4  # a shorter katakana word is read as a name only when the corpus writes it so
SPELT_KANA_PER_EDIT = 4


@lru_cache(maxsize=1)
def _to_katakana() -> Any:
    from e2k import C2K  # loads its character model (a few MB, numpy only) on first use

    return C2K()


@lru_cache(maxsize=8192)
def _word_katakana(word: str) -> str:
    return str(_to_katakana()(word))


def katakana_of(latin: str) -> str:
    """How ``latin`` (a name in Latin letters) is written in katakana, word by word, folded for comparison."""
    words = re.findall(r"[a-z]+", latin.lower())
    return "".join(_word_katakana(w) for w in words).translate(_FOLDED)


def renderings(english: str) -> list[tuple[str, str]]:
    """``(name, its katakana rendering)`` for the names of an English text that are words, not acronyms (a
    question may spell "Technology Prosperity Deal" テクノロジー・プロスペリティ・ディール)."""
    return sorted((run, kana) for run in name_runs(english) if re.search(r"[a-z]", run) and (kana := katakana_of(run)))


def katakana_words(text: str) -> set[str]:
    """The katakana words of a text, as written, and the parts of those written with a middle dot
    ("ヘインズビル・シェール", "ヘインズビル", "シェール")."""
    found = {w.strip("・") for w in _KATAKANA.findall(text)}
    found |= {part for w in found for part in w.split("・")}
    return {w for w in found if len(w) >= 2}


def name_runs(text: str) -> set[str]:
    """Runs of one to ``MAX_RUN_WORDS`` capitalised words in an English text ("Kinder Morgan", "Morgan")."""
    runs: set[str] = set()
    for match in _NAME_RUN.finditer(text.replace("**", "")):
        words = match.group(0).split()
        for start in (n for n, word in enumerate(words) if word.lower() not in EN_STOPWORDS):  # not "The", "In"
            runs.update(" ".join(words[start:end]) for end in range(start + 1, min(len(words), start + MAX_RUN_WORDS) + 1))
    return runs


def _close(kana: str, latin_kana: str) -> float:
    """Similarity of two katakana strings, or 0 when they differ by more than the edits allowed."""
    edits = Levenshtein.distance(kana, latin_kana)
    return 1.0 - edits / max(len(kana), len(latin_kana)) if edits <= len(kana) / KANA_PER_EDIT else 0.0


def align(japanese: str, english: str) -> list[tuple[str, str]]:
    """``(katakana word, Latin name)`` pairs of two twin passages: each the other's closest, and close enough."""
    words = {w.translate(_FOLDED): w for w in sorted(katakana_words(japanese))}
    runs = {run: kana for run in sorted(name_runs(english)) if (kana := katakana_of(run))}
    best_word: dict[str, tuple[float, str]] = {}  # folded word -> (score, run)
    best_run: dict[str, float] = {}
    for folded in words:
        for run, kana in runs.items():
            if (score := _close(folded, kana)) > 0:
                best_word[folded] = max(best_word.get(folded, (0.0, "")), (score, run))
                best_run[run] = max(best_run.get(run, 0.0), score)
    return [(words[folded], run) for folded, (score, run) in sorted(best_word.items()) if score >= best_run[run]]


def transliteration_table(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Each name's forms in the other script, from the ``(katakana, Latin)`` pairs ``align`` found: keyed by
    katakana words without long-vowel marks and middle dots, and by Latin names in lower case."""
    found: dict[str, set[str]] = {}
    for katakana, latin in pairs:
        found.setdefault(katakana.translate(_FOLDED), set()).add(latin)
        found.setdefault(latin.lower(), set()).add(katakana)
    return {form: tuple(sorted(others)) for form, others in found.items()}


def other_script(text: str, transliterations: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """``(form in the question, form in the other script)`` for each aligned name a question writes."""
    used = {word: word.translate(_FOLDED) for word in katakana_words(text)}
    used |= {run.lower(): run.lower() for run in name_runs(text)}
    return [(form, other) for form in sorted(used) for other in transliterations.get(used[form], ())]


def spell_names(text: str, renderings: dict[str, str], known: frozenset[str]) -> str:
    """``text`` with each whole katakana run that spells an English name of ``renderings`` read as that name."""
    def read(match: re.Match[str]) -> str:
        name = spelt_name(match.group(0).strip("・"), renderings, known)
        return f" {name} " if name else match.group(0)

    return _KATAKANA.sub(read, text)


def spelt_name(word: str, renderings: dict[str, str], known: frozenset[str]) -> str | None:
    """The English name a katakana word of a question spells: the word names something (a proper noun or a
    word the dictionary does not know, not a loanword such as エレクトロニクス), the corpus never writes it,
    and one name's rendering (of ``renderings``: folded katakana -> name) is within one edit per
    ``SPELT_KANA_PER_EDIT`` kana (closer than a twin's spelling: no twin vouches for it)."""
    folded = word.translate(_FOLDED)
    if normalize(word) in known or len(folded) < MIN_SPELT_KANA or not names_something(word):
        return None
    best = process.extract(folded, list(renderings), scorer=Levenshtein.distance,
                           score_cutoff=int(len(folded) / SPELT_KANA_PER_EDIT), limit=2)
    if not best or (len(best) > 1 and best[1][1] == best[0][1] and renderings[best[1][0]] != renderings[best[0][0]]):
        return None  # none close enough, or two names equally close
    return renderings[best[0][0]]
