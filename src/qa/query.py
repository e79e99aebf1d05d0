"""Understanding a question: language, validation, content terms, expected answer type, follow-ups."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from qa.numbers import amount_phrases
from qa.terms import is_framing
from qa.text import detect_language, is_question, key_terms, normalize, sentences, tokens, trailing_noun

MAX_QUESTION_CHARS = 2000

# The question asks for an overview rather than one fact (and every _SUMMARY question does too).
_BROAD = re.compile(
    r"影響|具体的な協力|どんな協力|主な|なぜ|\baffect|\bimpact\b|\bwhat (concrete |specific )?cooperation\b|\bwhy\b",
    re.I)
# The question asks what the documents say as a whole ("the main points?").
_SUMMARY = re.compile(r"ポイント|全体像|概要|まとめ|要点|要約|\bmain points?\b|\bmost important\b|\bkey points?\b|"
                      r"\boverview\b|\bsummar|\bgist\b", re.I)
# The question asks about something after the documents were written ("next summit", "次回").
_FUTURE = re.compile(r"次回|次に|次の|今後|将来|来年|\bnext\b|\bupcoming\b|\bfuture\b|\bnext year\b", re.I)
_FOLLOW_UP_EN = re.compile(r"^\s*(and|also|what about|how about|then|same for|and what about|what of)\b", re.I)
_FOLLOW_UP_JA = re.compile(r"^\s*(では|じゃあ|それでは|それと|また|それ|その|あと|なら)|(は|なら)[？?]?\s*$")
# What a question sets aside ("apart from Westinghouse, …", "トヨタ以外で…"): a closed grammatical class.
_EXCLUDING_EN = re.compile(r"\b(?:apart from|aside from|besides|other than|except(?: for)?|excluding|not counting)\s+"
                           r"([^,?;.]+?)(?=,|\?|;|\.|\s+(?:who|which|what|how|where|when|is|are|does|do|will)\b|$)", re.I)
_COORDINATED_JA = re.compile(r"(?:と|や|、|・|および|及び)$")  # coordinating particles, a closed class
_EXCLUDING_JA = re.compile(r"([^\s、。？?「」]{1,30}?)(?:以外|を除く|を除いて|のほか|の他)")
# Pronouns and demonstratives point back to something named before (a closed grammatical class).
# Asking for what else there is ("What other areas …?", 「ほかにSMRを建てるのはどこ？」): a closed class.
_OTHERS = re.compile(r"\b(?:other|others|else|another)\b|ほかに|他に|ほかの|他の|別の", re.I)
_REFERS_BACK = re.compile(r"\b(?:it|its|they|them|their|those|these|that|this)\b|それ|その|そこ|これ|この|あれ|あの|同社",
                          re.I)


_STATED = "〇"  # stands for an amount the question states: "〇規模" is the scale it states, not one asked for
_TYPES = {
    "amount": (
        re.compile(r"\bhow much\b|\bcost\b|\bprice\b|\bamount\b|\bworth\b|\bvalue\b|\bspend|\bdollars?\b|"
                   r"\bbudget\b|\bhow (big|large) (is|was|are)\b(?!.*\b(share|percent))", re.I),
        re.compile(r"いくら|金額|額|費用|価格|値段|ドル|円|(どれ|どの)くらい(の)?(投資|投じ|出資|資金)|(?<![大小〇])規模"),
    ),
    "percent": (
        re.compile(r"\bpercent|\bwhat share\b|\bwhich share\b|\bshare of\b|\brate\b|%", re.I),
        re.compile(r"割合|率|パーセント|%|％|何割|(どれ|どの)くらいを占め"),
    ),
    "count": (
        re.compile(r"\bhow many\b|\bnumber of\b|\bwhat number\b|\bwhat (is the )?capacity\b|\bvolume\b|"
                   r"\bmegawatts?\b|\bgwh\b|\btons?\b|\bhow (long|far|old)\b", re.I),
        re.compile(r"何隻|何基|何人|何社|何件|何台|何機|何発|何キロ|何トン|何メガ|何ギガ|何年間|何か国|何カ国|いくつ|数は|"
                   r"番号|容量|量は|年間.*量"),
    ),
    "date": (
        re.compile(r"\bwhen\b|\bdate\b|\bwhich (day|month|year)\b|\bwhat (day|month|year)\b|\bby what year\b", re.I),
        re.compile(r"いつ|何日|何月|何年|日付|日程|時期"),
    ),
    "name": (  # a company, person or body that the question does not name itself
        re.compile(r"\bwho\b|\bwhom\b|\bwhich ([\w-]+ )?(company|companies|firm|firms|organi[sz]ations?|partners?)\b", re.I),
        re.compile(r"誰|どこの(会社|企業|組織)|どの(会社|企業|組織)|どこが|どこと"),
    ),
    "place": (
        re.compile(r"\bwhere\b(?! (does|do|did) the (article|document|report|text|source)s? )|\bwhereabouts\b|"
                   r"\b(which|what) ([\w-]+ )?(state|city|port|country|countries|region|parish|county|site)\b|"
                   r"\bin what (state|city|country)\b|\blocation\b", re.I),
        re.compile(r"どこ(で(?!す)|に|へ|から|の(州|国|都市|港))|どの(州|都市|港|国|地域|場所)|場所|所在地|立地"),
    ),
}


# The noun a wh-question asks for, by grammar: "which/what <noun phrase> <verb or preposition>", "what is
# the <noun phrase> of", 「<noun phrase>は/って どこ・誰・何…」. Its last word is the head ("Which data center
# operator will …" → operator).
_AUXILIARY = r"(?:is|are|was|were|will|would|does|do|did|has|have|had|can|could|should|may|might|must)"
_HEAD_EN = (re.compile(r"\bwhat(?:'s| is| are| was| were)\s+(?:the\s+)?((?:[a-z][\w-]*\s+){0,3}?[a-z][\w-]*)\s+"
                       r"(?:of|for|in|on|at|behind|from)\b", re.I),
            re.compile(rf"\b(?:which|what)\s+(?!{_AUXILIARY}\b)((?:(?!{_AUXILIARY}\b)[a-z][\w-]*\s+){{0,3}}?"
                       rf"[a-z][\w-]*)\s+(?:{_AUXILIARY}|of|for|in|on|at)\b", re.I))
_HEAD_JA = re.compile(r"([^\s、。？?はがをにで]+?)(?:は|って)(?:どこ|誰|だれ|何|なに|いつ|いくら|どれ|どの|どんな|[？?]?$)")


def asked_head(text: str, lang: str) -> tuple[str, ...]:
    """The head noun of what a wh-question asks for, as a term (empty when the grammar shows none)."""
    if lang == "ja":
        match = _HEAD_JA.search(text)
        return tuple(key_terms(trailing_noun(match.group(1)))) if match else ()
    match = next((m for m in (p.search(text) for p in _HEAD_EN) if m), None)
    return tuple(key_terms(match.group(1))[-1:]) if match else ()


# The place asked for is a state, a city, a town or a port, not any part of a country; the date, a calendar one.
_EXACT = re.compile(r"\b(which|what|in what) ([\w-]+ )?(state|city|town|port|county|parish|prefecture)\b|"
                    r"(どの|どこの|何)(州|都市|市|町|港|県)|"
                    r"\b(what|which|on what) (exact )?(date|day)\b|\bexact date\b|日付|何月何日|何日", re.I)


class QuestionError(ValueError):
    """A question that cannot be used; the message says why."""


@dataclass(frozen=True)
class Query:
    """A cleaned question with what retrieval and answer composition need."""

    text: str
    lang: str
    focus_tokens: tuple[str, ...]
    context_tokens: tuple[str, ...] = ()
    answer_type: str = ""  # the kind of fact asked for: amount, percent, count, date, name, place or ""
    search_text: str = ""
    history_question: str = ""
    future: bool = False
    # asks which state, city or port, or the exact date: a region ("the western United States") or a relative
    # day ("earlier this week") is no answer
    exact: bool = False
    broad: bool = False
    summary: bool = False
    alternative: "Query | None" = None  # how to read it if this reading finds no answer (as a follow-up)
    question: str = ""  # the sentence that asks, without what the asker wrote before it
    refers_back: bool = False  # a pronoun points to what the previous question named: its terms count too
    document: str = ""  # the one document the question asks about by name ("according to the article")
    excluded: tuple[str, ...] = ()  # terms of what the question sets aside: an answer names something else
    continues: bool = False  # read as the next turn of a conversation (not as a question after remarks)
    # a term and what else a passage may hold instead, all of it ("moc" ~ ("協力", "覚え書き"))
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()
    head: tuple[str, ...] = ()  # the noun the question asks for ("operator" of "Which data center operator …?")
    # the words of the previous answer, when the question asks what else there is: none of its sentences
    # answers again
    shown: frozenset[str] = frozenset()

    def alias_groups(self, term: str) -> list[tuple[str, ...]]:
        """What a passage may hold instead of ``term``: the other form of an acronym the documents define or
        whose words they write."""
        return [group for t, group in self.aliases if t == term]

    @property
    def coverage_terms(self) -> tuple[str, ...]:
        """The terms a passage must hold to answer: the question's own, and on a follow-up of an earlier
        turn, what that turn asked about."""
        if self.continues or self.refers_back or not self.focus_tokens:
            return self.all_tokens
        return self.focus_tokens

    @property
    def sentence_terms(self) -> tuple[str, ...]:
        """The terms the answering sentence must hold: the question's own, and what a pronoun points back
        to ("And the diamond grit plant?" asks of the grit plant, not of the plant asked about before)."""
        if self.refers_back or not self.focus_tokens:
            return self.all_tokens
        return self.focus_tokens

    @property
    def asked(self) -> str:
        return self.question or self.text

    @property
    def asking(self) -> str:
        """The sentences of ``asked`` that ask, without an order after them ("… Answer $1 trillion.")."""
        return " ".join(s for s in sentences(self.asked, self.lang) if is_question(s)) or self.asked

    @property
    def all_tokens(self) -> tuple[str, ...]:
        return self.focus_tokens + tuple(t for t in self.context_tokens if t not in self.focus_tokens)


def clean_question(question: object, max_chars: int = MAX_QUESTION_CHARS) -> str:
    """The question as usable text, or QuestionError with a one-line reason."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, not {type(question).__name__}")
    text = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in "\u200d" else ch for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise QuestionError("the question is empty")
    if len(text) > max_chars:
        raise QuestionError(f"the question is {len(text)} characters long; the limit is {max_chars}")
    if not re.search(r"\w", text):
        raise QuestionError("the question has no words")
    return text


def content_tokens(text: str, lang: str) -> tuple[str, ...]:
    """Distinct content terms of a question, without question words."""
    seen: dict[str, None] = {}
    for token in key_terms(text):
        if is_framing(token) or (lang == "ja" and len(token) == 1 and re.fullmatch(r"[\u3040-\u309f]", token)):
            continue
        seen.setdefault(token, None)
    return tuple(seen)


def set_aside(text: str, lang: str) -> tuple[str, tuple[str, ...]]:
    """The question without what it sets aside, and the content terms of what it sets aside ("Apart from
    Westinghouse, who …?" → "who …?", (westinghouse,)). A name set aside ends where its capitals end;
    a Japanese one is the noun compound just before 以外 (「村田ってコンデンサ以外に…」 → コンデンサ)."""
    pattern = _EXCLUDING_JA if lang == "ja" else _EXCLUDING_EN
    excluded: list[str] = []

    def set_apart(match: re.Match[str]) -> str:
        phrase, kept = match.group(1), ""
        if lang == "en" and (name := re.match(r"(?:[A-Z][\w&.-]*\s?)+", phrase)):
            phrase = name.group(0)
        elif lang == "ja" and (noun := trailing_noun(phrase)):  # its topic stays asked
            phrase, kept = noun, unicodedata.normalize("NFKC", phrase)[:-len(noun)]
            while (joined := _COORDINATED_JA.search(kept)) and (other := trailing_noun(kept[:joined.start()])):
                phrase, kept = f"{other} {phrase}", kept[:joined.start() - len(other)]  # 「東芝と日立以外」
        excluded.extend(content_tokens(phrase, lang))
        return f"{kept} "

    rest = pattern.sub(set_apart, text)
    return rest, tuple(dict.fromkeys(excluded))


def without_terms(query: Query, terms: frozenset[str]) -> Query:
    """``query`` (and its other reading) with ``terms`` no longer among the terms a passage must hold."""
    if not terms:
        return query
    alternative = query.alternative and without_terms(query.alternative, terms)
    return replace(query, focus_tokens=tuple(t for t in query.focus_tokens if t not in terms),
                   context_tokens=tuple(t for t in query.context_tokens if t not in terms),
                   head=tuple(t for t in query.head if t not in terms), alternative=alternative)


def without_amounts(query: Query) -> Query | None:
    """The reading of ``query`` without the amounts its asking sentences state, which may be a wrong premise
    ("What will Panasonic's $25 billion go toward?" when the documents give $15 billion; not "… Answer $1
    trillion."); None when they state none or it names nothing else."""
    phrases = amount_phrases(query.asking)
    terms = frozenset(phrases) | frozenset(t for p in phrases.values() for t in content_tokens(p, query.lang))
    plain = without_terms(query, terms)
    if not phrases or not plain.focus_tokens:
        return None
    search_text = unicodedata.normalize("NFKC", plain.search_text)
    for phrase in phrases.values():
        search_text = search_text.replace(phrase, " ")
    return replace(plain, search_text=" ".join(search_text.split()), alternative=None)


def answer_type(text: str, lang: str) -> str:
    """``amount``, ``count``, ``date``, ``percent`` or ``""`` (anything else). An amount the question states
    asks for none ("What is the $550 billion meant to achieve?", 「5500億ドル規模の合意は何を目的と…」): each
    is read as the placeholder 〇 before the cues are matched."""
    normalized = normalize(text)
    for phrase in amount_phrases(text).values():
        normalized = normalized.replace(normalize(phrase), _STATED)
    for name, (english, japanese) in _TYPES.items():
        if (japanese if lang == "ja" else english).search(normalized):
            return name
    return ""



def is_follow_up(text: str, focus: tuple[str, ...]) -> bool:
    """Short questions that lean on the previous turn ("And the diamond grit plant?", "TDKは？"), and
    questions that name nothing of their own or point back ("How much does it cost?", "それはいくら？")."""
    opens_like_one = bool(_FOLLOW_UP_EN.search(text) or _FOLLOW_UP_JA.search(text)) and len(focus) <= 4
    return not focus or opens_like_one or bool(_REFERS_BACK.search(text))


def split_context(text: str, lang: str) -> tuple[str, str]:
    """``(question, context)``: the last sentence that asks, and what the asker wrote before it ("I work for
    a utility. Which companies will supply turbines?"); ``(text, "")`` for a single sentence."""
    parts = sentences(text, lang)
    asking = [i for i, part in enumerate(parts) if is_question(part)]
    if len(parts) < 2 or not asking or asking[-1] == 0:
        return text, ""
    last = asking[-1]
    return " ".join(parts[last:]), " ".join(parts[:last])


def _as_follow_up(text: str, asked: str, lang: str, focus: tuple[str, ...], kind: str, previous: str,
                  continues: bool) -> Query:
    prev_lang = detect_language(previous)
    return Query(continues=continues,
        text=text, lang=lang, focus_tokens=focus,
        context_tokens=content_tokens(previous, prev_lang),
        answer_type=kind or answer_type(previous, prev_lang),
        search_text=f"{asked} {previous}", history_question=previous, question=asked,
        refers_back=bool(_REFERS_BACK.search(asked)),
    )


def analyse(question: str, history: list[dict[str, Any]] | None = None, max_chars: int = MAX_QUESTION_CHARS) -> Query:
    """Build the Query for ``question``. What the asker wrote before the question itself, else the last user
    turn of ``history``, is what a follow-up leans on: first when the question names nothing or opens
    like a follow-up, otherwise as the alternative reading when the question alone finds no answer."""
    text = clean_question(question, max_chars)
    lang = detect_language(text)
    asked, context = split_context(text, lang)
    rest, excluded = set_aside(asked, lang)
    focus = tuple(t for t in content_tokens(rest, lang) if t not in excluded)
    kind = answer_type(asked, lang)
    previous = context or _last_user_question(history or [], max_chars)
    head = tuple(t for t in asked_head(rest, lang) if t in focus)
    follow_up = _as_follow_up(text, asked, lang, focus, kind, previous, not context) if previous else None
    shown = frozenset(tokens(_last_answer(history or []))) if _OTHERS.search(asked) else frozenset()
    follow_up = follow_up and replace(follow_up, head=head, shown=shown)
    alone = Query(text=text, lang=lang, focus_tokens=focus, answer_type=kind, search_text=asked, excluded=excluded,
                  future=bool(_FUTURE.search(asked)), exact=kind in ("place", "date") and bool(_EXACT.search(asked)),
                  broad=not kind and bool(_BROAD.search(asked) or _SUMMARY.search(asked)),
                  summary=not kind and bool(_SUMMARY.search(asked)), alternative=follow_up, question=asked, head=head,
                  shown=shown)
    if follow_up and is_follow_up(asked, focus):
        return replace(follow_up, alternative=replace(alone, alternative=None) if focus else None)
    return alone


def with_aliases(query: Query, pairs: list[tuple[str, str]]) -> Query:
    """The query searched with both forms of each ``(acronym, expansion)`` it uses, and covered by either:
    a passage that writes the acronym covers the expansion's words, one that spells it out covers the
    acronym."""
    if not pairs:
        return query
    aliases: list[tuple[str, tuple[str, ...]]] = []
    for acronym, expansion in pairs:
        short, long = content_tokens(acronym, "en"), content_tokens(expansion, detect_language(expansion))
        if short and long:
            aliases.append((short[0], long))
            aliases += [(t, short) for t in long]
    extra = " ".join(dict.fromkeys(p for pair in pairs for p in pair if normalize(p) not in normalize(query.search_text)))
    alternative = query.alternative and with_aliases(query.alternative, pairs)
    return replace(query, search_text=f"{query.search_text} {extra}".strip(), aliases=tuple(dict.fromkeys(aliases)),
                   alternative=alternative)


def _last_answer(history: list[dict[str, Any]]) -> str:
    """The text of the last assistant turn of ``history`` (empty when there is none)."""
    for message in reversed(history):
        if isinstance(message, dict) and message.get("role") == "assistant" and isinstance(message.get("content"), str):
            return str(message["content"])
    return ""


def _last_user_question(history: list[dict[str, Any]], max_chars: int) -> str:
    for message in reversed(history):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                try:
                    return clean_question(content, max_chars)
                except QuestionError:
                    return ""
    return ""
