"""The chain's input: its pydantic schema, and the conversion of what callers pass into what ``qa.query`` reads.

A question comes as a string, or as a dict (or ``QAInput``) with ``question`` and ``history``. History
messages may be ``{"role": "user" | "human" | "assistant" | "ai", "content": str}`` dicts, LangChain
messages or ``("human" | "ai", text)`` tuples: all go through ``convert_to_messages``, so every form
means the same. System messages are not turns of the conversation and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import MessageLikeRepresentation, convert_to_messages
from pydantic import BaseModel, Field

from qa.query import QuestionError

# LangChain message types and the roles ``qa.query.analyse`` reads
_ROLES = {"human": "user", "HumanMessageChunk": "user", "ai": "assistant", "AIMessageChunk": "assistant"}


class ToolInput(BaseModel):
    """A question and the conversation before it (the arguments of ``QAChain.as_tool()``)."""

    question: str = Field(description="The question, in Japanese or English.")
    history: list[MessageLikeRepresentation] = Field(
        default_factory=list,
        description='Earlier turns, oldest first: {"role": "user"|"assistant"|"human"|"ai", "content": str} '
                    'dicts, LangChain messages or ("human"|"ai", text) tuples.',
    )


class QAInput(ToolInput):
    """What the chain is asked: a question, the conversation before it, and whether to leave out FAQ
    passages (the evaluation's held-out setting)."""

    exclude_faq: bool = Field(default=False, description="Answer without the commentary's FAQ passages.")


@dataclass(frozen=True)
class Asked:
    """A parsed input: the question as given (``qa.query`` validates it), the history as
    ``{"role": "user"|"assistant", "content": str}`` turns, and the FAQ switch."""

    question: Any  # whatever was given: ``qa.query.analyse`` says why it is no question
    history: list[dict[str, str]] = field(default_factory=list)
    exclude_faq: bool = False


def parse_input(value: object) -> Asked:
    """``value`` as an ``Asked``; QuestionError (one line) for input that is neither a question nor a dict."""
    if isinstance(value, str):
        return Asked(value)
    if isinstance(value, ToolInput):
        value = dict(value)
    if not isinstance(value, Mapping):
        raise QuestionError(f"the input must be a question (text) or a dict with 'question' and 'history', "
                            f"not {type(value).__name__}")
    history = value.get("history") or []
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise QuestionError(f"the history must be a list of messages, not {type(history).__name__}")
    return Asked(value.get("question"), turns(history), bool(value.get("exclude_faq", False)))


def turns(history: Sequence[object]) -> list[dict[str, str]]:
    """The user and assistant turns of ``history`` as ``{"role", "content"}`` dicts; QuestionError for an
    item that is not a message."""
    found = []
    for n, item in enumerate(history):
        try:
            (message,) = convert_to_messages([item])  # type: ignore[list-item]
        except (ValueError, KeyError, TypeError, NotImplementedError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise QuestionError(f"history item {n} is not a message: {reason}") from None
        if role := _ROLES.get(message.type):
            found.append({"role": role, "content": message.text})
    return found


__all__ = ["Asked", "QAInput", "ToolInput", "parse_input", "turns"]
