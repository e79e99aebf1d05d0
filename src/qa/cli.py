"""The ``qa`` command: index, ask, eval, chat, bench. Heavy modules load only for the subcommand that needs them.

The command sets up logging for the ``qa`` logger hierarchy: warnings by default, ``-v`` for progress
notes, ``-vv`` or ``QA_DEBUG=1`` for everything (and tracebacks of unexpected errors).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TextIO

from qa.config import ConfigError, debug

EXIT_BAD_INPUT = 2
READER_CHOICES = ("extractive", "local", "llm")  # qa.readers.READERS, without importing the readers here

log = logging.getLogger("qa.cli")


def _fail(message: str, status: int = 1) -> int:
    print(f"qa: {message.splitlines()[0] if message else 'error'}", file=sys.stderr)
    return status


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record comes (a test or a server may replace it)."""

    stream = property(lambda self: sys.stderr, lambda self, value: None)


def setup_logging(verbosity: int) -> None:
    """Send the ``qa`` loggers' records to stderr as ``qa: message`` lines, at the level asked for."""
    level = logging.DEBUG if verbosity >= 2 or debug() else logging.INFO if verbosity == 1 else logging.WARNING
    logger = logging.getLogger("qa")
    for old in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(old)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("qa: %(message)s" if level > logging.DEBUG else "qa: %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


class IndexWriteError(RuntimeError):
    """Writing a new index version failed; the live one is untouched."""


def cmd_index(args: argparse.Namespace) -> int:
    from qa.config import Settings
    from qa.corpus import CorpusError
    from qa.embeddings import EmbedderError
    from qa.index import IndexMissingError, build_index

    settings = Settings()
    try:
        report = build_index(settings, show_progress=not args.quiet, force=args.force)
    except (CorpusError, EmbedderError, IndexMissingError):
        raise
    except OSError as err:
        raise IndexWriteError(
            f"cannot write the index in {settings.index_dir} ({_os_reason(err)}); the previous index is unchanged"
        ) from None
    except Exception as err:  # noqa: BLE001 - e.g. Chroma failing to write its database
        text = " ".join(str(err).split())[:200]
        raise IndexWriteError(
            f"building the index in {settings.index_dir} failed ({type(err).__name__}: {text}); "
            "the previous index is unchanged"
        ) from None
    print(("index built: " if report.published else "index unchanged: ") + report.summary())
    return 0


def _os_reason(err: OSError) -> str:
    reason = err.strerror or str(err) or type(err).__name__
    return f"{reason}: {err.filename}" if err.filename else reason


def cmd_ask(args: argparse.Namespace) -> int:
    import qa
    from qa.config import Settings
    from qa.index import corpus_source
    from qa.manifest import load_manifest
    from qa.query import clean_question

    question = " ".join(args.question)
    clean_question(question, Settings().max_question_chars)  # bad input fails fast, before the index loads
    if args.reader:
        answer = qa.build_chain(Settings().with_(reader=args.reader)).invoke({"question": question, "history": []})
    else:
        answer = qa.ask(question)
    if args.json:
        print(answer.to_json())
        return 0
    print(answer.answer)
    for conflict in answer.conflicts:
        print(f"\n! {conflict.topic}\n  {conflict.commentary_doc}: {conflict.commentary}\n  {conflict.primary_doc}: {conflict.primary}")
    if answer.citations:
        print("\nSources:")
    manifest = load_manifest(corpus_source(Settings()))
    for c in answer.citations:
        name = manifest.label(c.doc, answer.language)
        print(f"[{c.n}] {name} — {c.section} ({c.chunk_id})\n    {c.text}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluation import main as run_eval

    return run_eval(args)


def chat_reader(requested: str | None) -> str:
    """The chat's reader: the one asked for (``--reader``, else ``QA_READER``), else ``llm`` when ``QA_LLM``
    names a chat model, else ``local`` when the local model is installed and verifies, else ``extractive``;
    says which in the log."""
    from qa.config import Settings

    settings = Settings()
    if name := requested or settings.reader or ("llm" if settings.llm else ""):
        log.info("reader %s (asked for)", name)
        return name
    from qa.readers.local import available

    ok, reason = available()
    if ok:
        log.info("reader local (%s)", reason)
        return "local"
    log.warning("reader extractive: the local reader is unavailable (%s)", reason)
    return "extractive"


def cmd_chat(args: argparse.Namespace) -> int:
    from qa.config import ServeSettings
    from qa.ui.app import launch

    serve = ServeSettings()
    os.environ["QA_READER"] = chat_reader(args.reader)  # the chain the chat builds reads its settings from here
    status: int = launch(host=args.host or serve.host, port=args.port or serve.port)
    return status


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark in ``bench/`` beside ``src/``: it belongs to the source checkout, not to the package."""
    from qa.config import PROJECT_ROOT

    if not (PROJECT_ROOT / "bench" / "run.py").is_file():
        return _fail(f"qa bench needs a source checkout: {PROJECT_ROOT / 'bench'} is not there")
    sys.path.insert(0, str(PROJECT_ROOT))
    from bench.run import main as run_bench

    return run_bench(args)


def parser() -> argparse.ArgumentParser:
    from qa import __version__

    p = argparse.ArgumentParser(prog="qa", description="Bilingual questions and answers on the documents of a corpus (corpus/manifest.json).")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: everything)")
    p.add_argument("--version", action="version", version=f"qa {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("index", help="build or refresh the persisted index")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--force", action="store_true", help="rebuild everything, reusing no stored vectors")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("ask", help="answer one question")
    s.add_argument("--json", action="store_true", help="print the answer JSON")
    s.add_argument("--reader", choices=READER_CHOICES, help="who writes the answer (default: QA_READER, else "
                   "llm when QA_LLM is set, else extractive)")
    s.add_argument("question", nargs="+")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("eval", help="run the evaluation suite")
    from qa.evaluation.run import add_arguments as eval_arguments

    eval_arguments(s)
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("chat", help="start the Gradio chat")
    s.add_argument("--host", default=None, help="address to serve on (QA_HOST, default 127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="port (QA_PORT, default 7860)")
    s.add_argument("--reader", choices=READER_CHOICES, help="who writes the answers (default: QA_READER, else "
                   "local when the local model is installed and verifies, else extractive)")
    s.set_defaults(func=cmd_chat)

    s = sub.add_parser("bench", help="run the performance benchmark")
    s.add_argument("--quick", action="store_true", help="smaller scale runs")
    s.add_argument("--out", default=None, help="where to write bench.json and plots")
    s.add_argument("--reader", choices=("extractive", "local"), default="extractive",
                   help="extractive: the whole benchmark (default); local: the local reader's load, first-token "
                        "and full-answer latency and peak memory")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging(args.verbose)
    from qa.corpus import CorpusError
    from qa.embeddings import EmbedderError
    from qa.index import IndexMissingError
    from qa.query import QuestionError

    try:
        status: int = args.func(args)
        return status
    except (QuestionError, ConfigError) as err:
        return _fail(str(err), EXIT_BAD_INPUT)
    except (CorpusError, IndexMissingError, EmbedderError, IndexWriteError) as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `qa ask … | head`
        sys.stderr.close()
        return 0
    except OSError as err:
        return _fail(f"{_os_reason(err)}")
    except Exception as err:  # noqa: BLE001 - one line for the user; QA_DEBUG=1 shows the traceback
        if debug():
            raise
        text = " ".join(str(err).split())[:300]
        return _fail(f"unexpected error ({type(err).__name__}: {text}); run with QA_DEBUG=1 for the traceback")


if __name__ == "__main__":
    sys.exit(main())
