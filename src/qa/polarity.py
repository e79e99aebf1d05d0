"""Yes or no, said by the extractive reader when its evidence settles it.

A yes/no question is recognised by its grammar (an English one opens with an auxiliary verb; a Japanese
one ends in か and holds no interrogative word). Its answer is the evidence sentence, led by:

- **Yes** when the sentence (or, for a term written in the other language's script, its passage's twin)
  holds every content term of the question but setting words ("US-Japan", 日米) and words training shows
  to be weaker content than an unseen word ("commitment", 分野), and the passage holds every amount,
  number, date and name the question states, and the sentence negates nothing ("without additional
  testing" is no yes to "Does it need extra testing?");
- **No** when the question states a name, amount, number or date the documents use elsewhere but the
  evidence sentence does not hold ("Is Toshiba the partner for the cables?" when the cable sentence
  names Fujikura);
- nothing otherwise (a term the documents never use may be the asker's own wording), and no yes to a
  comparison ("Is X smaller than Y?"), which the words a sentence holds cannot settle: the evidence alone
  (``qa.aggregate`` settles one of two amounts the documents state as items).

A negated question ("Isn't it …?", "…ないのですか") gets no yes or no: either word would be ambiguous.
"""

from __future__ import annotations

import re

from qa.answerability import holds, is_unknown, term_in
from qa.compose import is_foreign
from qa.index import IndexStore
from qa.numbers import number_tokens
from qa.premise import correction, name_correction, passage_terms
from qa.query import Query
from qa.readers.base import Draft
from qa.terms import is_weak_content
from qa.text import detect_language, name_tokens, negates, tokens
from qa.ubiquity import beyond_setting

YES_NO_WORDS = {"ja": ("はい", "いいえ"), "en": ("Yes", "No")}

# Yes/no questions by grammar: English ones open with an auxiliary verb; Japanese ones end in か and hold no
# interrogative word (the closed class of 疑問詞). "X or Y?" asks to choose, not yes or no.
_EN_YES_NO = re.compile(r"^(is|are|was|were|do|does|did|will|would|can|could|has|have|had|should|shall|may|must)\b"
                        r"(?!.*\bor\b)", re.IGNORECASE)
_JA_YES_NO = re.compile(r"か[？?]?$")
_JA_INTERROGATIVE = re.compile(r"何|なに|なん|いつ|どこ|誰|だれ|どの|どう|どれ|どちら|どっち|いくら|いくつ|なぜ|どんな")
# Negation, a closed class: "isn't", "not", ない/ません before the question's end.
# A comparison ("larger than", 「TDKより小さい」) is settled by the amounts compared, not by which words a
# sentence holds: the grammatical markers of comparison, a closed class.
_COMPARES = {"en": re.compile(r"\bthan\b", re.IGNORECASE), "ja": re.compile(r"より|ほど")}
_NEGATED = {"en": re.compile(r"n't\b|\bnot\b|\bnever\b", re.IGNORECASE),
            "ja": re.compile(r"(ない|ません|なかった)(ん|の)?(です|でしょう)?か[？?]?$")}


def is_yes_no(question: str, lang: str) -> bool:
    """Whether a question asks for yes or no, by its grammar."""
    text = question.strip()
    if lang == "ja":
        return bool(_JA_YES_NO.search(text)) and not _JA_INTERROGATIVE.search(text)
    return bool(_EN_YES_NO.search(text))


def polarity(query: Query, draft: Draft, store: IndexStore) -> str:
    """``"yes"``, ``"no"`` or ``""``: what the draft's first sentence says to a yes/no question."""
    asked = query.asked
    if draft.abstained or not draft.sentences or draft.brief or not is_yes_no(asked, query.lang) \
            or _NEGATED[query.lang].search(asked):
        return ""
    first = draft.sentences[0]
    sentence = first.text
    first_lang = detect_language(sentence)
    found = frozenset(tokens(sentence))
    passage_found, passage_text = passage_terms(first.chunks, store)

    def held(term: str) -> bool:  # by the sentence; a term in the other language's script by its passage's twin
        return holds(query, term, found, sentence) or (
            is_foreign(term, query.lang) and holds(query, term, passage_found, passage_text))

    twins = [t for t in (store.twin(i) for i in first.chunks) if t is not None]
    stated = [t for t in number_tokens(asked) if not re.fullmatch(r"num:(19|20)\d\d", t)]
    stated_numbers = set(number_tokens(sentence)) | {n for t in twins for n in number_tokens(store.chunks[t].text)}
    names = [t for t in beyond_setting(name_tokens(asked), store) if t in query.focus_tokens]
    elsewhere = [t for t in names if not held(t) and not is_unknown(t, store)
                 and not term_in(t, passage_found, passage_text)]  # "Nippon" is 日本 of the twin: not elsewhere
    if any(n not in stated_numbers for n in stated) or elsewhere:
        return "no"
    if _COMPARES[query.lang].search(asked):
        return ""
    needed = beyond_setting({t for t in query.focus_tokens if not is_weak_content(t)}, store)
    return "yes" if needed and all(held(t) for t in needed) and not negates(sentence, first_lang) else ""


def evidence_lead(query: Query, draft: Draft, store: IndexStore) -> str:
    """What the answer opens with, as its evidence settles it: the correction of a wrong amount or name,
    else Yes./はい。 or No./いいえ。 to a yes/no question, else ``""`` (also for a brief, and for a draft that
    opens with a yes or no of its own, or with what code computed from the documents' items)."""
    if draft.abstained or not draft.sentences or draft.brief or draft.computed \
            or draft.sentences[0].text.strip() in YES_NO_WORDS[query.lang]:
        return ""
    said = " ".join(s.text for s in draft.sentences)
    cited = tuple(i for sentence in draft.sentences for i in sentence.chunks)
    if fix := correction(query.asking, said, said, query.lang) or name_correction(query, said, cited, store):
        return fix
    said_to_polar = polarity(query, draft, store)
    if not said_to_polar:
        return ""
    return YES_NO_WORDS[query.lang][said_to_polar == "no"] + ("。" if query.lang == "ja" else ".")
