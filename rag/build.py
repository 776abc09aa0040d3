"""Build (or update) an index from a corpus folder: load → clean → chunk → embed → store.

Vectors of chunks whose contextual text is unchanged are taken from the current index, so
re-indexing after adding, changing or removing a file embeds only what changed.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .config import Config
from .embed import Embedder
from .ingest import prepare
from .load import load_corpus
from .store import IndexLoadError, index_exists, load_index, save_index, text_hash
from .tokenize import Tokenizer
from .types import IngestError

Progress = Callable[[int, int, str], None]  # (done, total, what)


@dataclass
class BuildReport:
    documents: int
    chunks: int
    embedded: int  # texts sent to the embedder in this build
    reused: int  # vectors taken from the previous index
    errors: list[IngestError] = field(default_factory=list)
    path: Path | None = None

    def to_dict(self) -> dict:
        return {"documents": self.documents, "chunks": self.chunks, "embedded": self.embedded,
                "reused": self.reused, "errors": [e.to_dict() for e in self.errors],
                "index": str(self.path) if self.path else None}


def _previous_vectors(index_dir: Path, model: str) -> dict[str, np.ndarray]:
    """text hash → vector from the current index, when it was built with the same model."""
    if not index_exists(index_dir):
        return {}
    try:
        old = load_index(index_dir, model=model)
    except IndexLoadError:
        return {}
    matrix = old.vector_matrix()
    return {h: matrix[i] for i, h in enumerate(old.hashes)}


def embed_in_batches(embedder: Embedder, texts: list[str], progress: Progress | None, show_bar: bool,
                     what: str = "向量化", batch: int = 32) -> np.ndarray:
    from tqdm import tqdm

    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    bar = tqdm(total=len(texts), desc=what, unit="段", disable=not show_bar, file=sys.stderr)
    for i in range(0, len(texts), batch):
        part = texts[i:i + batch]
        out[i:i + len(part)] = embedder.embed_passages(part)
        bar.update(len(part))
        if progress:
            progress(i + len(part), len(texts), what)
    bar.close()
    return out


def build_index(corpus_dir: Path, index_dir: Path, embedder: Embedder, config: Config, *,
                progress: Progress | None = None, show_bar: bool = True,
                tokenizer: Tokenizer | None = None) -> BuildReport:
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    docs, errors = load_corpus(corpus_dir, max_bytes=config.max_file_bytes)
    prepared = prepare(docs, max_chars=config.chunk_max_chars, min_chars=config.chunk_min_chars)
    chunks = [c for p in prepared for c in p.chunks]
    tokenize = tokenizer or Tokenizer()
    tokens = [tokenize(f"{c.title} {' '.join(c.section)} {c.text}") for c in chunks]

    previous = _previous_vectors(index_dir, embedder.name)
    texts = [c.embed_text() for c in chunks]
    hashes = [text_hash(t) for t in texts]
    todo = [i for i, h in enumerate(hashes) if h not in previous]
    vectors = np.empty((len(chunks), embedder.dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h in previous:
            vectors[i] = previous[h]
    if todo:
        vectors[todo] = embed_in_batches(embedder, [texts[i] for i in todo], progress, show_bar)
    elif progress:
        progress(len(chunks), len(chunks), "向量化")

    extras = build_extras(prepared, chunks, embedder, config, progress, show_bar)
    path = save_index(index_dir, docs=[p.doc for p in prepared], chunks=chunks, tokens=tokens,
                      vectors=vectors, model=embedder.name, dim=embedder.dim, extras=extras,
                      info={"errors": [e.to_dict() for e in errors], "corpus": str(corpus_dir)})
    return BuildReport(len(prepared), len(chunks), len(todo), len(chunks) - len(todo), errors, path)


def build_extras(prepared, chunks, embedder, config, progress, show_bar) -> dict[str, object]:
    """Tables that later stages read from the index (none yet beyond chunks and vectors)."""
    return {}
