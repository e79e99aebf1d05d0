"""The conversation as the browser keeps it, and one turn streamed from the chain's ``AnswerChunk``s."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import asdict, replace
from typing import Any

from qa.ui.render import Turn, merge_repeated

from qa.answer import Answer, AnswerChunk, Citation, Conflict

MAX_TURNS = 50  # kept in the browser; older turns are dropped first
log = logging.getLogger(__name__)


def new_turn(question: str) -> Turn:
    return Turn(id=uuid.uuid4().hex[:10], question=question)


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """Everything the chat shows of an answer (its timings left out)."""
    data = asdict(answer)
    data.pop("timings", None)
    return data


def answer_from_dict(data: dict[str, Any]) -> Answer:
    return Answer(
        question=data["question"], language=data["language"], answer=data["answer"], abstained=data["abstained"],
        citations=[Citation(**c) for c in data.get("citations", [])],
        conflicts=[Conflict(**c) for c in data.get("conflicts", [])],
        reader=data.get("reader", "extractive"),
    )


def turn_to_dict(turn: Turn) -> dict[str, Any]:
    return {"id": turn.id, "question": turn.question, "feedback": turn.feedback, "commented": turn.commented,
            "answer": answer_to_dict(turn.answer) if turn.answer else None}


def turns_from_state(state: Any) -> list[Turn]:
    """The finished turns kept in the browser; a stored conversation that no longer reads is dropped (and logged)."""
    if not isinstance(state, list):
        return []
    turns = []
    for item in state[-MAX_TURNS:]:
        try:
            if not item.get("answer"):
                continue
            turns.append(Turn(id=str(item["id"]), question=str(item["question"]),
                              answer=answer_from_dict(item["answer"]), feedback=str(item.get("feedback", "")),
                              commented=bool(item.get("commented", False))))
        except (AttributeError, KeyError, TypeError) as err:
            log.warning("dropping a stored conversation that does not read: %s", err)
            return []
    return turns


def turns_to_state(turns: list[Turn]) -> list[dict[str, Any]]:
    return [turn_to_dict(turn) for turn in turns if turn.answer][-MAX_TURNS:]


def history_of(turns: list[Turn]) -> list[dict[str, str]]:
    """The chain's history: each finished turn's question and answer text."""
    history: list[dict[str, str]] = []
    for turn in turns:
        if turn.answer is not None:
            history += [{"role": "user", "content": turn.question},
                        {"role": "assistant", "content": turn.answer.answer}]
    return history


def stream_turn(chain: Any, turn: Turn, history: list[dict[str, str]]) -> Iterator[Turn]:
    """The turn as the chain writes it: the text so far after each chunk, then the finished turn.

    Raises what the chain raises (``QuestionError`` for an unusable question, before any text).
    """
    total = AnswerChunk()
    for chunk in chain.stream({"question": turn.question, "history": history}):
        total = total + chunk
        if total.answer is None and chunk.text:
            turn = replace(turn, partial=total.text)
            yield turn
    if total.answer is None:
        raise RuntimeError("the chain's stream ended without a complete answer")
    yield replace(turn, answer=merge_repeated(total.answer), partial="")
