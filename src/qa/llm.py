"""Chat models served elsewhere: ``QA_LLM=ollama:<model>`` or ``openai:<model>@<base url>``.

The model reads through ``qa.readers.chat_model.ChatModelReader``, which fences passages as data and keeps
only sentences their cited passages support.
"""

from __future__ import annotations

import os
from typing import Any


def chat_model_from_spec(spec: str) -> Any:
    """``ollama:<model>`` or ``openai:<model>@<base url>`` (an OpenAI-compatible server such as llama.cpp or vLLM).

    The API key, if the server needs one, comes only from the environment (OPENAI_API_KEY).
    """
    kind, _, rest = spec.partition(":")
    try:
        if kind == "ollama" and rest:
            from langchain_ollama import ChatOllama

            return ChatOllama(model=rest, base_url=os.environ.get("OLLAMA_HOST", "http://127.0.0.1:11434"), temperature=0)
        if kind == "openai" and rest:
            from langchain_openai import ChatOpenAI

            model, _, base_url = rest.partition("@")
            return ChatOpenAI(model=model, base_url=base_url or None, temperature=0,
                              api_key=os.environ.get("OPENAI_API_KEY", "not-needed"))
    except ImportError as err:
        raise ValueError(f"QA_LLM={spec!r} needs an extra package ({err.name}); pip install -e '.[llm]'") from None
    raise ValueError(f"QA_LLM={spec!r}: use 'ollama:<model>' or 'openai:<model>@<base url>'")
