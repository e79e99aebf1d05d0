"""The index's errors: each message says what is wrong and how to rebuild or reconnect."""

from __future__ import annotations


class IndexMissingError(RuntimeError):
    """No usable index; the message says how to build one."""


class ChromaUnavailableError(IndexMissingError):
    """The Chroma server named by QA_CHROMA_URL cannot be reached; the message says how to start one."""


class StoreMismatchError(IndexMissingError):
    """A version built for the embedded store opened with a Chroma server configured, or the reverse."""


def one_line(err: BaseException) -> str:
    """An exception's message on one line, at most 200 characters."""
    text = " ".join(str(err).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def is_connection_error(err: BaseException) -> bool:
    """Whether ``err`` says a server could not be reached (httpx, requests or chromadb's own wording)."""
    names = {cls.__name__ for cls in type(err).__mro__}
    return bool(names & {"ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError", "ConnectionError"}) \
        or "Could not connect" in str(err)
