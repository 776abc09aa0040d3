"""The on-disk index: FAISS vectors + chunk records + jieba BM25, switched in atomically.

Layout of an index folder:

    index/current -> build-<id>/          a symlink, replaced with one rename
    index/build-<id>/manifest.json        format version, model, dimension, fingerprint, sha256 of every file
    index/build-<id>/docs.jsonl           documents: id, title, meta, decoded original text
    index/build-<id>/chunks.jsonl         chunk records with their BM25 tokens and text hash
    index/build-<id>/vectors.faiss        FAISS inner-product index over normalised vectors
    index/build-<id>/<extra>.json(l)      tables built by later stages (facts, sentences…)
    index/build-<id>/<extra>.npy          arrays built by later stages (sentence vectors), no pickle

Nothing is pickled, so a tampered index cannot run code; a half-written or altered build is
caught by its checksums, and a build made with another embedding model is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .types import Chunk, Document

FORMAT_VERSION = 1
CURRENT = "current"
# Exact search below this many vectors, HNSW above (measured: eval/RESULTS.md, scale run, 2 cores).
# Exact IndexFlatIP costs ~15-18 ms per 100k vectors per query (p50 77 ms at 500k, 159 ms at 1M), is
# always exact, also under region / year filters (where it is faster still), and builds in ~1 s per
# 500k; the HNSW graph takes ~30-100 s per 100k to build (>= 12 min for 1M), is rebuilt at every
# `policy-rag index`, and loses recall, most under a narrow filter. So HNSW only above 500k.
HNSW_THRESHOLD = 500_000
HNSW_M = 32  # graph degree
HNSW_EF_CONSTRUCTION = 80
# Candidates per HNSW query. The retriever asks for 100 results, so values under 100 have no effect;
# 512 brought recall@10 on embedding-like vectors from ~0.90 (128) to ~0.99 for ~2 ms more per query.
HNSW_EF_SEARCH = 512


class IndexLoadError(Exception):
    """A clear Chinese message about an index that cannot be used, with a rebuild hint."""


REBUILD_HINT = "请运行 `policy-rag index` 重新建立索引。"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass
class StoredIndex:
    path: Path  # the build folder actually loaded
    manifest: dict
    docs: dict[str, Document]
    chunks: list[Chunk]
    tokens: list[list[str]]
    hashes: list[str]
    vectors: "object"  # faiss.Index
    extras: dict = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.manifest["model"]

    def vector_matrix(self) -> np.ndarray:
        """All stored vectors (for incremental rebuilds and exact re-scoring)."""
        n = self.vectors.ntotal
        if n == 0:
            return np.empty((0, self.manifest["dim"]), dtype=np.float32)
        return self.vectors.reconstruct_n(0, n)

    def read_extra(self, name: str):
        """A JSON table written by a later stage (None when absent)."""
        if name not in self.extras:
            p = self.path / name
            self.extras[name] = json.loads(p.read_text("utf-8")) if p.exists() else None
        return self.extras[name]

    def read_array(self, name: str) -> np.ndarray | None:
        """A numpy array written by a later stage (None when absent); never unpickles."""
        if name not in self.extras:
            p = self.path / name
            self.extras[name] = np.load(p, allow_pickle=False) if p.exists() else None
        return self.extras[name]


def make_faiss(vectors: np.ndarray, dim: int):
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) >= HNSW_THRESHOLD:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(vectors)
    return index


def corpus_fingerprint(docs: list[Document]) -> str:
    h = hashlib.sha256()
    for d in sorted(docs, key=lambda d: d.id):
        h.update(d.id.encode("utf-8") + b"\0" + text_hash(d.text).encode() + b"\n")
    return h.hexdigest()


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_index(index_dir: Path, *, docs: list[Document], chunks: list[Chunk], tokens: list[list[str]],
               vectors: np.ndarray, model: str, dim: int, extras: dict[str, object] | None = None,
               info: dict | None = None) -> Path:
    """Write a complete build beside the live one, then switch `current` to it with one rename."""
    import faiss

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    build_id = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    tmp = index_dir / f".tmp-{build_id}"
    tmp.mkdir()
    _write_jsonl(tmp / "docs.jsonl", ({"id": d.id, "title": d.title, "meta": d.meta, "text": d.text} for d in docs))
    _write_jsonl(tmp / "chunks.jsonl", ({**c.to_dict(), "tokens": t, "hash": text_hash(c.embed_text())}
                                        for c, t in zip(chunks, tokens)))
    faiss.write_index(make_faiss(vectors, dim), str(tmp / "vectors.faiss"))
    for name, table in (extras or {}).items():
        if isinstance(table, np.ndarray):  # arrays as .npy, loaded back with allow_pickle=False
            with open(tmp / name, "wb") as f:
                np.save(f, table, allow_pickle=False)
        else:
            (tmp / name).write_text(json.dumps(table, ensure_ascii=False), "utf-8")
    files = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())}
    manifest = {
        "format_version": FORMAT_VERSION, "model": model, "dim": dim,
        "fingerprint": corpus_fingerprint(docs), "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "documents": len(docs), "chunks": len(chunks), "files": files, **(info or {}),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    for p in tmp.iterdir():
        with open(p, "rb") as f:
            os.fsync(f.fileno())
    _fsync_dir(tmp)
    final = index_dir / build_id
    os.rename(tmp, final)
    link_tmp = index_dir / f".{CURRENT}-{build_id}"
    os.symlink(build_id, link_tmp)
    os.replace(link_tmp, index_dir / CURRENT)  # the atomic switch
    _fsync_dir(index_dir)
    _prune(index_dir, keep={build_id})
    return final


def _prune(index_dir: Path, keep: set[str], keep_previous: int = 1) -> None:
    """Remove stale temporary folders and all but the newest previous build (a reader may still use it)."""
    builds = sorted((p for p in index_dir.iterdir() if p.name.startswith("build-") and p.name not in keep),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[keep_previous:]:
        shutil.rmtree(old, ignore_errors=True)
    for p in index_dir.iterdir():
        if p.name.startswith((".tmp-build-", f".{CURRENT}-build-")) and p.name[5:] not in keep:
            if p.is_symlink() or p.is_file():
                p.unlink(missing_ok=True)
            elif time.time() - p.stat().st_mtime > 3600:  # a crashed writer's leftovers
                shutil.rmtree(p, ignore_errors=True)


def current_build(index_dir: Path) -> Path | None:
    link = Path(index_dir) / CURRENT
    if not link.exists():
        return None
    return link.resolve()


def index_exists(index_dir: Path) -> bool:
    return current_build(index_dir) is not None


def load_index(index_dir: Path, *, model: str | None = None, verify: bool = True) -> StoredIndex:
    """Load the current build; refuse one made by another model, an old format or altered files."""
    import faiss

    build = current_build(index_dir)
    if build is None:
        raise IndexLoadError(f"在「{index_dir}」没有找到索引。{REBUILD_HINT}")
    try:
        manifest = json.loads((build / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise IndexLoadError(f"索引「{build}」的清单文件缺失或损坏（{e}）。{REBUILD_HINT}") from e
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexLoadError(f"索引格式版本为 {manifest.get('format_version')}，当前程序需要 {FORMAT_VERSION}。{REBUILD_HINT}")
    if model is not None and manifest.get("model") != model:
        raise IndexLoadError(
            f"索引是用向量模型「{manifest.get('model')}」建立的，当前配置的模型是「{model}」，两者不能混用。{REBUILD_HINT}")
    if verify:
        for name, digest in manifest.get("files", {}).items():
            p = build / name
            if not p.exists() or sha256_file(p) != digest:
                raise IndexLoadError(f"索引文件「{name}」缺失或校验失败（可能被改动或写入不完整）。{REBUILD_HINT}")
    try:
        docs = {}
        with open(build / "docs.jsonl", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                docs[r["id"]] = Document(r["id"], r["title"], r["text"], r["meta"])
        chunks, tokens, hashes = [], [], []
        with open(build / "chunks.jsonl", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                tokens.append(r.pop("tokens"))
                hashes.append(r.pop("hash"))
                chunks.append(Chunk(**r))
        vectors = faiss.read_index(str(build / "vectors.faiss"))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        raise IndexLoadError(f"索引「{build}」读取失败（{e}）。{REBUILD_HINT}") from e
    if vectors.ntotal != len(chunks) or vectors.d != manifest.get("dim"):
        raise IndexLoadError(f"索引「{build}」的向量数与片段数不一致。{REBUILD_HINT}")
    return StoredIndex(build, manifest, docs, chunks, tokens, hashes, vectors)
