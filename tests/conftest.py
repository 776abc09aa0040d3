"""Shared fixtures. The whole-corpus index is built once per test session (embedding takes minutes on 2 cores)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import Config
from rag.pipeline import Pipeline

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def built_index(tmp_path_factory) -> Pipeline:
    """A Pipeline over a real index of the repository's corpus/ (read-only: do not upload or delete)."""
    index_dir = tmp_path_factory.mktemp("index")
    pipe = Pipeline(Config(corpus_dir=CORPUS, index_dir=index_dir))
    pipe.build(show_bar=False)
    return pipe


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private copy of corpus/ for tests that change it."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest
