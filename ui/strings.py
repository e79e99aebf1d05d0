"""Every interface text in both interface languages. Answers keep the question's language; these do not."""

from __future__ import annotations

import json
import logging
from pathlib import Path

LANGS = ("ja", "en")
DEFAULT_LANG = "ja"
EXAMPLES_FILE = "examples.json"  # optional, in the corpus directory: {"ja": [...], "en": [...]}
log = logging.getLogger(__name__)

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "page_title": "Questions on the documents",
        "language": "Interface language",
        "question": "Your question",
        "placeholder": "Ask in English or 日本語",
        "ask": "Ask",
        "clear": "New chat",
        "chat": "Chat",
        "documents": "Documents",
        "examples": "Try asking",
        "about_docs": "Answers come from {n} documents:",
        "about_extractive": "Each answer quotes the documents: the sentences shown are taken from them, "
                            "and every [n] opens the passage it comes from, with its translation.",
        "about_model": "Answers quote the documents; a language model ({name}) adds what quotes cannot give "
                       "(yes or no, lists, totals, an overview), checked against the passages it cites. Each "
                       "answer says which wrote it; every [n] opens the passage it comes from, with its "
                       "translation.",
        "about_language": "Answers come in the language of the question.",
        "primary": "primary source",
        "commentary": "commentary",
        "published": "{publisher}, {date}",
        "origin": "Where it comes from",
        "contents": "Contents",
        "text_in": "Text in",
        "lang_ja": "日本語",
        "lang_en": "English",
        "sources": "Sources",
        "open_in_document": "Show in the document",
        "twin_ja": "Japanese original",
        "twin_en": "English rendering",
        "conflict": "The documents differ",
        "abstain": "Not in the documents",
        "reader_extractive": "Quoted from the documents",
        "reader_model": "Written by {name}",
        "you": "You",
        "assistant": "Answer",
        "writing": "Writing the answer…",
        "copy": "Copy",
        "copied": "Copied",
        "retry": "Ask again",
        "edit": "Edit question",
        "helpful": "Helpful",
        "not_helpful": "Not helpful",
        "thanks": "Thank you. Your feedback is saved on this server only.",
        "comment": "Comment (optional)",
        "send_comment": "Send comment",
        "comment_saved": "Comment saved.",
        "err_empty": "Type a question first.",
        "err_long": "The question is {n} characters long; the limit is {limit}. Shorten it and ask again.",
        "err_question": "This question cannot be answered: {reason}",
        "err_service": "The answer could not be made: {reason}",
        "counter": "{n} / {limit}",
        "technical": "Technical details",
    },
    "ja": {
        "page_title": "資料への質問",
        "language": "表示言語",
        "question": "質問",
        "placeholder": "日本語 / English で質問できます",
        "ask": "質問する",
        "clear": "新しいチャット",
        "chat": "チャット",
        "documents": "資料",
        "examples": "質問の例",
        "about_docs": "回答は次の {n} つの資料に基づきます。",
        "about_extractive": "回答は資料の文をそのまま引用します。[n] をクリックすると、引用元の箇所と訳が表示されます。",
        "about_model": "回答は資料の文を引用します。引用では答えられないもの(はい/いいえ、一覧、合計、概要)は"
                       "言語モデル({name})が作成し、引用元の箇所と照合します。各回答にどちらが作成したかを示します。"
                       "[n] をクリックすると、引用元の箇所と訳が表示されます。",
        "about_language": "回答は質問と同じ言語で返ります。",
        "primary": "一次資料",
        "commentary": "解説",
        "published": "{publisher}、{date}",
        "origin": "出所",
        "contents": "目次",
        "text_in": "表示する本文",
        "lang_ja": "日本語",
        "lang_en": "English",
        "sources": "出典",
        "open_in_document": "資料の中で表示",
        "twin_ja": "日本語原文",
        "twin_en": "英語訳",
        "conflict": "資料の間で記述が異なります",
        "abstain": "資料に記載なし",
        "reader_extractive": "資料からの引用",
        "reader_model": "{name} による回答",
        "you": "あなた",
        "assistant": "回答",
        "writing": "回答を作成しています…",
        "copy": "コピー",
        "copied": "コピーしました",
        "retry": "もう一度質問する",
        "edit": "質問を編集",
        "helpful": "役に立った",
        "not_helpful": "役に立たなかった",
        "thanks": "ありがとうございます。評価はこのサーバーにのみ保存されます。",
        "comment": "コメント(任意)",
        "send_comment": "コメントを送る",
        "comment_saved": "コメントを保存しました。",
        "err_empty": "質問を入力してください。",
        "err_long": "質問が {n} 文字あります。上限は {limit} 文字です。短くしてからもう一度送ってください。",
        "err_question": "この質問は使えません。言葉で書き直してください。",
        "err_service": "回答を作成できませんでした: {reason}",
        "counter": "{n} / {limit}",
        "technical": "技術情報",
    },
}


def lang_of(value: object) -> str:
    """A supported interface language: ``value`` when it is one, else the default."""
    return value if isinstance(value, str) and value in LANGS else DEFAULT_LANG


def t(lang: str, key: str, **values: object) -> str:
    """The interface text ``key`` in ``lang``, with ``values`` filled in."""
    text = TEXT[lang_of(lang)][key]
    return text.format(**values) if values else text


def load_examples(corpus_dir: Path) -> dict[str, list[str]]:
    """Example questions per interface language from the corpus's ``examples.json``; none when it is absent."""
    path = corpus_dir / EXAMPLES_FILE
    if not path.is_file():
        return {lang: [] for lang in LANGS}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected {{\"ja\": [questions], \"en\": [questions]}}")
    examples = {lang: [q for q in data.get(lang, []) if isinstance(q, str) and q.strip()] for lang in LANGS}
    log.debug("%d example questions from %s", sum(map(len, examples.values())), path)
    return examples
