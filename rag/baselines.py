"""Baseline recipes evaluated with the same embedder and the same gold-span rule as policy-rag.

Each recipe builds its own in-memory index of a corpus and returns ranked (doc, start, end) spans,
so the comparison is between recipes, not models.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .embed import Embedder
from .types import Document

Search = Callable[[str, int], list[tuple[str, int, int]]]


def fixed_windows(doc: Document, size: int = 500) -> list[tuple[int, int]]:
    """Fixed-size character windows over the raw decoded text, no overlap."""
    return [(s, min(s + size, len(doc.text))) for s in range(0, len(doc.text), size) if doc.text[s:s + size].strip()]


def naive(docs: list[Document], embedder: Embedder, show_bar: bool = False) -> Search:
    """500-character chunks of the raw text, dense only: the recipe a first prototype would use."""
    from .build import embed_in_batches

    spans = [(d.id, s, e) for d in docs for s, e in fixed_windows(d)]
    texts = {d.id: d.text for d in docs}
    matrix = embed_in_batches(embedder, [texts[d][s:e] for d, s, e in spans], None, show_bar, "基线向量化")

    def search(query: str, k: int) -> list[tuple[str, int, int]]:
        scores = matrix @ embedder.embed_queries([query])[0]
        return [spans[i] for i in np.argsort(-scores)[:k]]

    return search



# --- peers' recipes (issue 8) --------------------------------------------------------------------
# Every recipe below uses the same embedder and returns (doc, start, end) spans of the decoded
# original text, so `rag.evaluate` scores them with the same gold rule as policy-rag.

def _lc_embeddings(embedder: Embedder, show_bar: bool = False, what: str = "基线向量化"):
    """Our embedder behind LangChain's `Embeddings` interface (passages for documents, query for queries)."""
    from langchain_core.embeddings import Embeddings

    from .build import embed_in_batches

    class EmbedderAdapter(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embed_in_batches(embedder, list(texts), None, show_bar, what).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_queries([text])[0].tolist()

    return EmbedderAdapter()


def lc_split(docs: list[Document], splitter) -> list[tuple[str, int, int]]:
    """(doc, start, end) of every chunk a LangChain splitter makes of the raw texts, from the
    splitter's own `start_index` metadata (checked against the text; re-found when LangChain's
    overlap arithmetic misses, which it reports as -1 or a wrong offset)."""
    spans = []
    for d in docs:
        for piece in splitter.create_documents([d.text]):
            chunk, start = piece.page_content, piece.metadata.get("start_index", -1)
            if start < 0 or d.text[start:start + len(chunk)] != chunk:
                start = d.text.find(chunk, max(0, start))
                if start < 0:
                    start = d.text.find(chunk)
            if start >= 0:
                spans.append((d.id, start, start + len(chunk)))
    return spans


def langchain_default(docs: list[Document], embedder: Embedder, show_bar: bool = False) -> Search:
    """LangChain's tutorial recipe: RecursiveCharacterTextSplitter(1000, 200) + the community FAISS
    vector store (its default flat L2 index over our unit vectors, i.e. cosine order), dense only."""
    import warnings

    from langchain_text_splitters import RecursiveCharacterTextSplitter

    with warnings.catch_warnings():  # langchain-community announces its sunset on import
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.vectorstores import FAISS

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    spans = lc_split(docs, splitter)
    texts = {d.id: d.text for d in docs}
    store = FAISS.from_texts([texts[d][s:e] for d, s, e in spans], _lc_embeddings(embedder, show_bar),
                             metadatas=[{"doc": d, "start": s, "end": e} for d, s, e in spans])

    def search(query: str, k: int) -> list[tuple[str, int, int]]:
        return [(m["doc"], m["start"], m["end"])
                for m in (doc.metadata for doc, _ in store.similarity_search_with_score(query, k=k))]

    return search


CHATCHAT_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "，", "；", ""]


def _dense_index(texts: list[str], embedder: Embedder, show_bar: bool, what: str = "基线向量化"):
    """Exact cosine search over passage vectors: query -> row ids, best first."""
    from .build import embed_in_batches

    matrix = embed_in_batches(embedder, texts, None, show_bar, what)

    def top(query: str, n: int) -> list[int]:
        scores = matrix @ embedder.embed_queries([query])[0]
        return [int(i) for i in np.argsort(-scores, kind="stable")[:n]]

    return top


def _bm25_index(tokens: list[list[str]], tokenize: Callable[[str], list[str]]):
    """bm25s over pre-tokenised texts: query -> row ids with a positive score, best first."""
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index([t or ["∅"] for t in tokens], show_progress=False)

    def top(query: str, n: int) -> list[int]:
        q = tokenize(query)
        if not q:
            return []
        scores = np.asarray(bm25.get_scores(q), dtype=np.float32)
        return [int(i) for i in np.argsort(-scores, kind="stable")[:n] if scores[i] > 0]

    return top


def weighted_rrf(rankings: list[list[int]], weights: list[float], c: int = 60) -> list[int]:
    """LangChain's EnsembleRetriever fusion: Σ weight / (c + rank), first-seen order on ties."""
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights):
        for rank, i in enumerate(ranking, start=1):
            scores[i] = scores.get(i, 0.0) + w / (c + rank)
    return sorted(scores, key=lambda i: -scores[i])


def chatchat(docs: list[Document], embedder: Embedder, show_bar: bool = False) -> Search:
    """Langchain-Chatchat's default knowledge-base recipe: a Chinese recursive splitter (blank lines,
    lines, 。！？, then ，；) at 750/150, FAISS + jieba BM25 (lcut_for_search) each taking top-k,
    fused by EnsembleRetriever's weighted RRF at weights 0.5/0.5."""
    import jieba
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(separators=CHATCHAT_SEPARATORS, keep_separator="end",
                                              add_start_index=True, chunk_size=750, chunk_overlap=150)
    spans = lc_split(docs, splitter)
    texts = {d.id: d.text for d in docs}
    chunks = [texts[d][s:e] for d, s, e in spans]
    cut = jieba.Tokenizer()  # private: never touches jieba's global dictionary

    def tokenize(text: str) -> list[str]:
        return [w for w in cut.lcut_for_search(text) if w.strip()]

    dense = _dense_index(chunks, embedder, show_bar)
    lexical = _bm25_index([tokenize(c) for c in chunks], tokenize)

    def search(query: str, k: int) -> list[tuple[str, int, int]]:
        return [spans[i] for i in weighted_rrf([dense(query, k), lexical(query, k)], [0.5, 0.5])[:k]]

    return search


def _own_chunks(docs: list[Document]):
    """policy-rag's chunks (structure-aware, section context), default sizes."""
    from .config import Config
    from .ingest import prepare

    config = Config()
    prepared = prepare(docs, max_chars=config.chunk_max_chars, min_chars=config.chunk_min_chars)
    return [c for p in prepared for c in p.chunks]


def bm25(docs: list[Document], embedder: Embedder, show_bar: bool = False) -> Search:
    """policy-rag's chunks and tokenizer (jieba + policy terms + stop words), BM25 only, no filters."""
    from .tokenize import Tokenizer

    chunks = _own_chunks(docs)
    tokenize = Tokenizer()
    lexical = _bm25_index([tokenize(f"{c.title} {' '.join(c.section)} {c.text}") for c in chunks], tokenize)

    def search(query: str, k: int) -> list[tuple[str, int, int]]:
        return [(chunks[i].doc, chunks[i].start, chunks[i].end) for i in lexical(query, k)]

    return search


def dense(docs: list[Document], embedder: Embedder, show_bar: bool = False) -> Search:
    """policy-rag's chunks with their title + section context, dense only, no filters."""
    chunks = _own_chunks(docs)
    top = _dense_index([c.embed_text() for c in chunks], embedder, show_bar)

    def search(query: str, k: int) -> list[tuple[str, int, int]]:
        return [(chunks[i].doc, chunks[i].start, chunks[i].end) for i in top(query, k)]

    return search


RECIPES = {"naive": naive, "langchain-default": langchain_default, "chatchat": chatchat, "bm25": bm25,
           "dense": dense}
