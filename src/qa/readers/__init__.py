"""Readers: the extractive reader, and language-model readers behind the same interface."""

from __future__ import annotations

from typing import Any

from qa.config import Settings
from qa.readers.base import Draft, Reader, ReadRequest, Sentence

READERS = ("extractive", "local", "llm")


def reader_name(settings: Settings, llm: Any = None) -> str:
    """The reader ``settings`` ask for: ``QA_READER`` if set, else ``llm`` when a chat model is given or
    configured (``QA_LLM``), else ``extractive``."""
    if settings.reader:
        return settings.reader
    return "llm" if llm is not None or settings.llm else "extractive"


def get_reader(settings: Settings, llm: Any = None) -> Reader | None:
    """The language-model reader ``settings`` ask for, or None for the extractive reader (which the
    chain always runs, since its draft is every reader's baseline)."""
    name = reader_name(settings, llm)
    if name == "extractive":
        return None
    if name == "local":
        from qa.readers.local import LocalReader

        return LocalReader(settings)
    if name == "llm":
        from qa.readers.chat_model import ChatModelReader

        if llm is None:
            if not settings.llm:
                raise ValueError("QA_READER='llm' needs a chat model: set QA_LLM='ollama:<model>' or "
                                 "'openai:<model>@<base url>'")
            from qa.llm import chat_model_from_spec

            llm = chat_model_from_spec(settings.llm)
        return ChatModelReader(llm)
    raise ValueError(f"QA_READER={name!r}: use one of {', '.join(READERS)}")


__all__ = ["READERS", "Draft", "ReadRequest", "Reader", "Sentence", "get_reader", "reader_name"]
