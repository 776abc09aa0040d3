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
from .similar import SENTENCES_JSON, SENTENCES_NPY, build_sentence_table, stored_sentence_vectors
from .store import IndexLoadError, StoredIndex, index_exists, load_index, save_index, text_hash
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


def previous_index(index_dir: Path, model: str) -> StoredIndex | None:
    """The current index when it was built with the same model (its vectors can be reused), else None."""
    if not index_exists(index_dir):
        return None
    try:
        return load_index(index_dir, model=model)
    except IndexLoadError:
        return None


def reusable_vectors(old: StoredIndex | None,
                     read: Callable[[StoredIndex], tuple[list[str], np.ndarray]] | None = None) -> dict[str, np.ndarray]:
    """text hash → vector from a previous index.

    `read` picks which vectors: by default the chunk vectors; a later stage passes a reader of
    its own table (e.g. `rag.similar.stored_sentence_vectors`) to reuse its vectors the same way.
    """
    if old is None:
        return {}
    try:
        hashes, matrix = read(old) if read else (old.hashes, old.vector_matrix())
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {h: matrix[i] for i, h in enumerate(hashes)}


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

    old = previous_index(index_dir, embedder.name)
    previous = reusable_vectors(old)
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

    extras = build_extras(prepared, embedder, old, progress, show_bar)
    path = save_index(index_dir, docs=[p.doc for p in prepared], chunks=chunks, tokens=tokens,
                      vectors=vectors, model=embedder.name, dim=embedder.dim, extras=extras,
                      info={"errors": [e.to_dict() for e in errors], "corpus": str(corpus_dir)})
    return BuildReport(len(prepared), len(chunks), len(todo), len(chunks) - len(todo), errors, path)


def build_extras(prepared, embedder: Embedder, old: StoredIndex | None, progress: Progress | None,
                 show_bar: bool) -> dict[str, object]:
    """Tables that later stages read from the index: the sentence table and vectors of rag.similar,
    and facts.json (rag.facts), read back with StoredIndex.read_extra("facts.json")."""
    previous = reusable_vectors(old, stored_sentence_vectors)
    sentences, sentence_vectors = build_sentence_table(prepared, embedder, progress, show_bar, previous=previous)
    from .facts import FACTS_FILE, build_facts  # platforms and headline metrics with spans (rag.facts)

    return {SENTENCES_JSON: sentences, SENTENCES_NPY: sentence_vectors, FACTS_FILE: build_facts(prepared)}
