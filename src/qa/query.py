"""Understanding a question: language, validation, content terms, expected answer type, follow-ups."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from qa.text import detect_language, key_terms, normalize, stem

MAX_QUESTION_CHARS = 2000

# Question words carry no content: they never count towards coverage.
JA_QUESTION_WORDS = frozenset(
    "何 なに 何故 なぜ いつ 誰 だれ どこ どの どれ どう どのよう よう どんな いくら いくつ 教える 知る 言う ある いる する なる "
    "れる られる ください 下さい 点 こと もの ため 件 内容 具体 的 について 関する 対する 合意 今回 場合 方 予定 様 "
    "お 願う 何か 何が 等 ブログ 記事 筆者 ファクトシート 資料 文書 冒頭 説明 幾ら 幾つ 何時 為る 居る 有る 成る 下さる 会社 企業 どちら 目的 狙い 主 役割 意味 含む 対象 特に 実際 主要 行う 出来る 持つ 概要 まとめ 要点 全体像 ポイント 影響 面 側面".split()
)
# Words that frame a question in English without naming its topic.
EN_FRAME_WORDS = frozenset(stem(w) for w in
    "try achieve aim intend plan goal expect happen mean involve include cover main key point kind type specific "
    "exactly detail role purpose describe explain according document fact sheet say state mention announce list "
    "blog article author paragraph section opening text "
    "give get make like regard concern apart besides else actually really together meant supposed "
    "overview summary summarize summarise outline impact affect effect concrete side aspect".split()
)
# Words that only say what kind of answer is wanted ("how much", "the amount").
TYPE_WORDS = frozenset("額 金額 費用 価格 値段 規模 日付 時期 割合 率 数 総額".split()) | frozenset(
    stem(w) for w in "cost price amount worth value much many date rate percent percentage number spend big large size"
    .split()
)
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
_TYPES = {
    "amount": (
        re.compile(r"\bhow much\b|\bcost\b|\bprice\b|\bamount\b|\bworth\b|\bvalue\b|\bspend|\bdollars?\b|"
                   r"\bbudget\b|\bhow (big|large) (is|was|are)\b(?!.*\b(share|percent))", re.I),
        re.compile(r"いくら|金額|額|費用|価格|値段|ドル|円|(どれ|どの)くらい(の)?(投資|投じ|出資|資金)|(?<![大小])規模"),
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
    "calendar date": (  # "this week" or "today" does not answer these
        re.compile(r"\b(exact|specific|what|which) date\b|\bon what day\b", re.I),
        re.compile(r"何月何日|何日|日付"),
    ),
    "date": (
        re.compile(r"\bwhen\b|\bwhat date\b|\bwhich (day|month|year)\b|\bwhat (day|month|year)\b|\bby what year\b", re.I),
        re.compile(r"いつ|何日|何月|何年|日付|日程|時期"),
    ),
    "us state": (
        re.compile(r"\b(which|what) ([\w.]+ )?state\b", re.I),
        re.compile(r"(どの|どこの)州|何州"),
    ),
    "named place": (  # a region ("the southern United States") does not answer these
        re.compile(r"\b(which|what) ([\w.]+ )?(city|port|county|parish|town)\b", re.I),
        re.compile(r"(どの|どこの)(都市|港|市|町)"),
    ),
    "place": (
        re.compile(r"\bwhere\b(?! (does|do|did) the (blog|article|fact sheet|document)s? )|\bwhereabouts\b|"
                   r"\bwhich (state|city|port|country|countries|region|parish|county|site)\b|"
                   r"\bin what (state|city|country)\b|\blocation\b", re.I),
        re.compile(r"どこ(で|に|へ|から|の(州|国|都市|港))|どの(州|都市|港|国|地域|場所)|場所|所在地|立地"),
    ),
}


class QuestionError(ValueError):
    """A question that cannot be used; the message says why."""


@dataclass(frozen=True)
class Query:
    """A cleaned question with what retrieval and answer composition need."""

    text: str
    lang: str
    focus_tokens: tuple[str, ...]
    context_tokens: tuple[str, ...] = ()
    answer_type: str = ""
    search_text: str = ""
    history_question: str = ""
    future: bool = False
    broad: bool = False
    summary: bool = False

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
        if token in JA_QUESTION_WORDS or token in TYPE_WORDS or token in EN_FRAME_WORDS or (lang == "ja" and len(token) == 1 and re.fullmatch(r"[\u3040-\u309f]", token)):
            continue
        seen.setdefault(token, None)
    return tuple(seen)


def answer_type(text: str, lang: str) -> str:
    """``amount``, ``count``, ``date``, ``percent`` or ``""`` (anything else)."""
    normalized = normalize(text)
    for name, (english, japanese) in _TYPES.items():
        if (japanese if lang == "ja" else english).search(normalized):
            return name
    return ""


def is_follow_up(text: str, focus: tuple[str, ...]) -> bool:
    """Short questions that lean on the previous turn ("And the diamond grit plant?", "TDKは？")."""
    return bool(_FOLLOW_UP_EN.search(text) or _FOLLOW_UP_JA.search(text)) and len(focus) <= 4


def analyse(question: str, history: list[dict] | None = None, max_chars: int = MAX_QUESTION_CHARS) -> Query:
    """Build the Query for ``question``, using the last user turn of ``history`` for follow-ups."""
    text = clean_question(question, max_chars)
    lang = detect_language(text)
    focus = content_tokens(text, lang)
    kind = answer_type(text, lang)
    previous = _last_user_question(history or [], max_chars)
    if previous and is_follow_up(text, focus):
        prev_lang = detect_language(previous)
        return Query(
            text=text, lang=lang, focus_tokens=focus,
            context_tokens=content_tokens(previous, prev_lang),
            answer_type=kind or answer_type(previous, prev_lang),
            search_text=f"{text} {previous}", history_question=previous,
        )
    return Query(text=text, lang=lang, focus_tokens=focus, answer_type=kind, search_text=text,
                 future=bool(_FUTURE.search(text)), broad=not kind and bool(_BROAD.search(text) or _SUMMARY.search(text)),
                 summary=not kind and bool(_SUMMARY.search(text)))


def _last_user_question(history: list[dict], max_chars: int) -> str:
    for message in reversed(history):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                try:
                    return clean_question(content, max_chars)
                except QuestionError:
                    return ""
    return ""
