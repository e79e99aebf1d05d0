"""👍/👎 feedback with an optional comment, appended to a local JSONL file and never sent anywhere."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa.ui.render import Turn, copy_text

from qa.manifest import Manifest

RATINGS = ("up", "down")
MAX_COMMENT = 1000
FEEDBACK_NAME = "feedback.jsonl"
log = logging.getLogger(__name__)


def feedback_path(settings: Any) -> Path:
    """``QA_FEEDBACK_FILE``, or ``feedback.jsonl`` in the index directory."""
    return Path(settings.feedback_file).expanduser() if settings.feedback_file else settings.index_dir / FEEDBACK_NAME


class FeedbackLog:
    """Appends one JSON line per vote or comment; safe across the sessions of one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, turn: Turn, rating: str, manifest: Manifest, comment: str = "") -> dict[str, Any]:
        """Append one record for ``turn`` and return it."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}, not {rating!r}")
        answer = turn.answer
        if answer is None:
            raise ValueError("feedback needs a finished answer")
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "turn": turn.id,
            "rating": rating,
            "comment": comment.strip()[:MAX_COMMENT],
            "question": turn.question,
            "language": answer.language,
            "answer": copy_text(answer, manifest, answer.language),
            "abstained": answer.abstained,
            "reader": answer.reader,
            "citations": [c.chunk_id for c in answer.citations],
        }
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        log.info("feedback %s on turn %s written to %s", rating, turn.id, self.path)
        return entry
