"""The ``qa`` command: index, ask, eval, chat, bench. Heavy modules load only for the subcommand that needs them."""

from __future__ import annotations

import argparse
import logging
import os
import sys

EXIT_BAD_INPUT = 2
READER_CHOICES = ("extractive", "local", "llm")  # qa.readers.READERS, without importing the readers here

log = logging.getLogger("qa.cli")


def _fail(message: str, status: int = 1) -> int:
    print(f"qa: {message.splitlines()[0] if message else 'error'}", file=sys.stderr)
    return status


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
    manifest = load_manifest(Settings().corpus_dir)
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
    from qa.ui.app import launch

    os.environ["QA_READER"] = chat_reader(args.reader)  # the chain the chat builds reads its settings from here
    return launch(host=args.host, port=args.port)


def cmd_bench(args: argparse.Namespace) -> int:
    from qa.bench import main as run_bench

    return run_bench(args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qa", description="Bilingual questions and answers on the 2025 US–Japan fact sheet.")
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
    s.add_argument("--host", default=os.environ.get("QA_HOST", "127.0.0.1"))
    s.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", "7860")))
    s.add_argument("--reader", choices=READER_CHOICES, help="who writes the answers (default: QA_READER, else "
                   "local when the local model is installed and verifies, else extractive)")
    s.set_defaults(func=cmd_chat)

    s = sub.add_parser("bench", help="run the performance benchmark")
    s.add_argument("--quick", action="store_true", help="smaller scale runs")
    s.add_argument("--out", default=None, help="where to write bench.json and plots")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from qa.corpus import CorpusError
    from qa.embeddings import EmbedderError
    from qa.index import IndexMissingError
    from qa.query import QuestionError

    try:
        return args.func(args)
    except QuestionError as err:
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
        if os.environ.get("QA_DEBUG"):
            raise
        text = " ".join(str(err).split())[:300]
        return _fail(f"unexpected error ({type(err).__name__}: {text}); run with QA_DEBUG=1 for the traceback")


if __name__ == "__main__":
    sys.exit(main())
