"""What arithmetic a question asks for, read from its grammar: a total, the largest or smallest, or (a
yes/no question) whether one amount is larger than another.

The words are closed grammatical classes of each language, not of any document:

- **English**: "total", "sum", "add up", "combined", "altogether", "in all" (and "together" when the
  question asks how much); a superlative of size ("the largest investment"), or another one ("most",
  "highest") that no content word follows ("the most advanced components", "the highest priority"
  are no questions of amounts; "at least $25 billion" neither); a
  comparative right before "than" ("cost more than", "larger than"; not "more important than"); a
  question with "which", "who" or "whose", a comparative of size, no "than", and the things to choose
  from named with "or" or "between" ("Which is larger, X or Y?", "Who invests more, X or Y?"): the
  larger or smaller of those it names, as a superlative.
- **Japanese**, by morphology (so 不足し holds no 足す and により no より): 合計 or 総計, the verb 足す (合わせる
  when the question asks how much); 最も or 一番 with an adjective or verb of size (大きい, 少ない,
  上回る), or one of those with どちら, どっち or どれ (not どれくらい) after the things to choose from
  ("XとYのどちらが大きい", "X、Y、どっちが安い"); the particle より with one of those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.polarity import is_yes_no
from qa.text import EN_STOPWORDS, morphemes

_EN_SUM = re.compile(r"\b(?:total|sum|add(?:s|ed)? up|combined|altogether|in all)\b(?!-)", re.IGNORECASE)
_EN_TOGETHER = re.compile(r"\btogether\b", re.IGNORECASE)
_EN_SUPERLATIVE = re.compile(r"(?<!\bat )\b(largest|biggest|highest|greatest|most|smallest|lowest|fewest|least)\b"
                             r"(?![-\w])(?:\s+([A-Za-z]+))?", re.IGNORECASE)
_EN_COMPARATIVES = r"(larger|bigger|greater|higher|more|smaller|lower|less|fewer)"
_EN_COMPARATIVE = re.compile(rf"\b{_EN_COMPARATIVES}\s+than\b", re.IGNORECASE)
_EN_CHOICE = re.compile(r"\b(?:which|who|whose)\b", re.IGNORECASE)
_EN_ALTERNATIVES = re.compile(r"\b(?:or|between)\b", re.IGNORECASE)  # the things to choose from are named
_EN_BARE_COMPARATIVE = re.compile(rf"\b{_EN_COMPARATIVES}\b(?![-\w])(?:\s+([A-Za-z]+))?", re.IGNORECASE)
_EN_OF_SIZE = frozenset({"largest", "biggest", "greatest", "smallest", "fewest", "larger", "bigger", "greater",
                         "smaller", "fewer"})  # of a size whatever follows
_EN_LEAST = frozenset({"smallest", "lowest", "fewest", "least", "smaller", "lower", "less", "fewer"})
_JA_SUM = frozenset({"合計", "総計"})
_JA_ADD = frozenset({"足す"})
_JA_TOGETHER = frozenset({"合わせる", "合わす"})
_JA_SUPERLATIVE = frozenset({"最も", "一番", "いちばん"})
_JA_MORE = frozenset({"大きい", "多い", "高い", "上回る"})
_JA_LESS = frozenset({"小さい", "少ない", "低い", "安い", "下回る"})
_JA_CHOICE = frozenset({"どちら", "どっち", "どれ"})  # the interrogative pronouns that ask to choose one of several
_JA_DEGREE = frozenset({"くらい", "ぐらい", "ほど", "だけ"})  # after どれ they ask how much of one thing (どれくらい)
_JA_ALTERNATIVES = frozenset({"と", "か", "や"})  # particles that name the things to choose from (XとYのどちら)
_JA_TOPIC = frozenset({"は", "が", "も"})  # the particles that mark what is compared
AMOUNT_TYPES = ("amount", "percent")


@dataclass(frozen=True)
class Arithmetic:
    """What a question asks to compute: ``kind`` is ``sum``, ``superlative`` or ``comparison``; ``least``
    for the smallest or "less than"; ``against``, for a comparison, the words naming what it compares
    against; ``terms_text``, the question without the words that ask for arithmetic."""

    kind: str
    least: bool = False
    against: str = ""
    terms_text: str = ""
    choice: bool = False  # a choice among things the question names ("Which is larger, X or Y?")


def arithmetic(question: str, lang: str, answer_type: str = "") -> Arithmetic | None:
    """The arithmetic ``question`` asks for (given the kind of fact it asks for), or None."""
    return _japanese(question, answer_type) if lang == "ja" else _english(question, answer_type)


def _english(question: str, answer_type: str) -> Arithmetic | None:
    if is_yes_no(question, "en"):
        if len(found := list(_EN_COMPARATIVE.finditer(question))) != 1:
            return None
        match = found[0]
        return Arithmetic("comparison", match.group(1).lower() in _EN_LEAST, question[match.end():],
                          question[:match.start()] + " " + question[match.end():])
    if _EN_SUM.search(question) or (answer_type in AMOUNT_TYPES and _EN_TOGETHER.search(question)):
        return Arithmetic("sum", terms_text=_EN_TOGETHER.sub(" ", _EN_SUM.sub(" ", question)))
    for match in _EN_SUPERLATIVE.finditer(question):
        if _of_amounts(match, answer_type):
            return Arithmetic("superlative", match.group(1).lower() in _EN_LEAST,
                              terms_text=question[:match.start()] + " " + question[match.end(1):])
    if _EN_CHOICE.search(question) and _EN_ALTERNATIVES.search(question) and not _EN_COMPARATIVE.search(question):
        for match in _EN_BARE_COMPARATIVE.finditer(question):
            if _of_amounts(match, answer_type):
                return Arithmetic("superlative", match.group(1).lower() in _EN_LEAST,
                                  terms_text=question[:match.start()] + " " + question[match.end(1):], choice=True)
    return None


def _of_amounts(match: re.Match[str], answer_type: str) -> bool:
    """A superlative or comparative (group 1, the word after it group 2) of amounts: one of size ("the
    largest investment"), or one that no content word follows ("the highest priority" is no amount)."""
    following = (match.group(2) or "").lower()
    return (match.group(1).lower() in _EN_OF_SIZE or not following or following in EN_STOPWORDS
            or answer_type in AMOUNT_TYPES)


def _japanese(question: str, answer_type: str) -> Arithmetic | None:
    found = [(m.surface(), m.part_of_speech()[0], m.dictionary_form()) for m in morphemes(question)]
    lemmas = [lemma for _surface, _pos, lemma in found]
    more, less = bool(_JA_MORE & set(lemmas)), bool(_JA_LESS & set(lemmas))
    asking = _JA_SUM | _JA_ADD | _JA_TOGETHER | _JA_SUPERLATIVE | _JA_MORE | _JA_LESS
    terms_text = "".join(" " if lemma in asking else surface for surface, _pos, lemma in found)
    if is_yes_no(question, "ja"):
        than = next((n for n, (surface, pos, _l) in enumerate(found) if surface == "より" and pos == "助詞"), None)
        if than is None or more == less:
            return None
        topic = max((n for n, (surface, pos, _l) in enumerate(found[:than]) if pos == "助詞" and surface in _JA_TOPIC),
                    default=-1)  # what it is compared against comes after the topic ("XはYより…")
        against = "".join(surface for surface, _pos, _lemma in found[topic + 1:than])
        return Arithmetic("comparison", less, against, terms_text)
    adds = any(lemma in _JA_SUM or (lemma in _JA_ADD and pos == "動詞") for _s, pos, lemma in found)
    if adds or (answer_type in AMOUNT_TYPES and _JA_TOGETHER & set(lemmas)):
        return Arithmetic("sum", terms_text=terms_text)
    superlative, choice = bool(_JA_SUPERLATIVE & set(lemmas)), _choice(found)
    if (superlative or choice) and more != less:
        return Arithmetic("superlative", less, terms_text=terms_text, choice=choice and not superlative)
    return None


def _choice(found: list[tuple[str, str, str]]) -> bool:
    """A Japanese question choosing among things it names: どちら, どっち or どれ (not どれくらい), after
    a particle or comma that names the alternatives ("XとYのどちら", "X、Y、どっち")."""
    for n, (surface, _pos, _lemma) in enumerate(found):
        if surface in _JA_CHOICE and not (n + 1 < len(found) and found[n + 1][0] in _JA_DEGREE):
            return any((pos == "助詞" and s in _JA_ALTERNATIVES) or s == "、" for s, pos, _l in found[:n])
    return False
