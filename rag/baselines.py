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


RECIPES = {"naive": naive}
