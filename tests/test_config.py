"""Configuration: every ``QA_*`` variable is read in ``qa.config``, validated, named in errors and documented."""

from __future__ import annotations

import re

import pytest

from qa.config import PROJECT_ROOT, VARIABLES, ConfigError, LocalModelSettings, ServeSettings, Settings


@pytest.mark.parametrize(("name", "value", "says"), [
    ("QA_TOP_K", "abc", "is not a whole number"),
    ("QA_TOP_K", "0", "must be at least 1"),
    ("QA_PRUNE_GRACE", "soon", "is not a number"),
    ("QA_EXACT_SEARCH_MAX", "-1", "must be at least 0"),
    ("QA_READER", "gpt", "must be one of extractive, local, llm"),
])
def test_a_bad_value_names_its_variable(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name}='{value}' {says}"):
        Settings()


def test_serving_and_local_model_values_are_checked(monkeypatch):
    monkeypatch.setenv("QA_PORT", "70000")
    with pytest.raises(ConfigError, match="QA_PORT='70000' must be between 1 and 65535"):
        ServeSettings()
    monkeypatch.setenv("QA_LOCAL_TIMEOUT", "0")
    with pytest.raises(ConfigError, match="QA_LOCAL_TIMEOUT"):
        LocalModelSettings()


def test_values_and_defaults_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_TOP_K", " 8 ")
    monkeypatch.setenv("QA_READER", "local")
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path))
    monkeypatch.delenv("QA_PRUNE_GRACE", raising=False)
    settings = Settings()
    assert (settings.top_k, settings.reader, settings.index_dir, settings.prune_grace) == (8, "local", tmp_path, 60.0)


def test_the_cli_reports_a_bad_value_in_one_line_with_status_2(monkeypatch, capsys):
    from qa.cli import main

    monkeypatch.setenv("QA_TOP_K", "abc")
    assert main(["ask", "How much is Fujikura investing?"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["qa: QA_TOP_K='abc' is not a whole number"]


def test_every_variable_is_read_in_config_and_documented():
    used = set()
    for path in [*(PROJECT_ROOT / "src" / "qa").rglob("*.py"), *(PROJECT_ROOT / "ui").rglob("*.py")]:
        used |= set(re.findall(r"\bQA_[A-Z_]+\b", path.read_text(encoding="utf-8")))
    assert used <= set(VARIABLES), used - set(VARIABLES)
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration"):]
    assert [v for v in VARIABLES if f"`{v}`" not in table] == []


def test_top_k_sets_how_many_passages_the_chain_reads(tiny_settings):
    from langchain_core.runnables import ensure_config

    from qa.chain import build_chain
    from qa.index import build_index
    from qa.query import analyse

    build_index(tiny_settings, show_progress=False)
    for k in (1, 3):
        chain = build_chain(tiny_settings.with_(top_k=k))
        store = chain.index.get()
        query = analyse("What will the two countries cooperate on?", [], 2000)
        _draft, hits = chain._draft(query, store, False, {}, ensure_config())
        assert len(hits) == k


@pytest.mark.parametrize(("verbosity", "debug", "shown"), [
    (0, "", {"WARNING"}), (1, "", {"WARNING", "INFO"}), (0, "1", {"WARNING", "INFO", "DEBUG"}),
])
def test_the_cli_logs_the_qa_hierarchy_at_the_level_asked_for(monkeypatch, capsys, verbosity, debug, shown):
    import logging

    from qa.cli import setup_logging

    monkeypatch.setenv("QA_DEBUG", debug)
    setup_logging(verbosity)
    log = logging.getLogger("qa.index.build")
    for level in ("DEBUG", "INFO", "WARNING"):
        log.log(getattr(logging, level), "a %s note", level)
    lines = capsys.readouterr().err.splitlines()
    assert {level for level in ("DEBUG", "INFO", "WARNING") if any(f"a {level} note" in l for l in lines)} == shown
    assert all(line.startswith("qa: ") for line in lines)
    root = logging.getLogger("qa")
    root.setLevel(logging.NOTSET)
    for handler in list(root.handlers):
        root.removeHandler(handler)
