"""Hybrid retrieval: dense (FAISS) + jieba BM25, fused, with filters and question understanding.

"滨海区2022年…" restricts the search to that region and report year by itself; a year also
admits the plan part of the previous year's report ("2023年计划…" lives in the 2022 report).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .config import Config
from .embed import Embedder
from .store import StoredIndex
from .tokenize import Tokenizer
from .types import Chunk, Hit

YEAR_IN_QUERY = re.compile(r"(20\d\d)\s*年")
CITY_SCOPE = re.compile(r"区县|各区|哪些区|哪些县|辖区|下辖")
# "哪些区…" asks across reports: the top of the list should not be one report's chunks.
ACROSS_REPORTS = re.compile(r"哪些(区|县|市|地区|区县|城市|地方)|哪几个(区|县)|各(区|县|区县)")


@dataclass
class Filters:
    regions: list[str] = field(default_factory=list)  # any of these report regions
    city: str | None = None  # reports of this city and its districts/counties
    year: int | None = None
    level: str | None = None
    part: str | None = None
    exclude_docs: set[str] = field(default_factory=set)
    docs: set[str] | None = None  # only these documents

    def empty(self) -> bool:
        return not (self.regions or self.city or self.year or self.level or self.part or self.exclude_docs
                    or self.docs is not None)


def region_aliases(region: str) -> list[str]:
    """How a question may name a region: 滨海区 or just 滨海 (not for anonymised X区)."""
    names = [region]
    stem = region[:-1]
    if len(stem) >= 2 and not set(stem) <= set("Xx*"):
        names.append(stem)
    return names


def parse_query(question: str, known_regions: list[str], known_cities: list[str] | None = None) -> Filters:
    """Region, city scope and year named in a question."""
    found: list[str] = []
    for region in sorted(known_regions, key=len, reverse=True):
        if any(alias in question for alias in region_aliases(region)) and region not in found:
            if not any(region in f for f in found):
                found.append(region)
    filters = Filters()
    cities = set(known_cities or [])
    for region in list(found):
        if region in cities and CITY_SCOPE.search(question):
            filters.city = region
            found.remove(region)
    filters.regions = found
    m = YEAR_IN_QUERY.search(question)
    if m:
        filters.year = int(m.group(1))
    return filters


class Retriever:
    """Search one loaded index with one embedder."""

    def __init__(self, index: StoredIndex, embedder: Embedder, config: Config, tokenizer: Tokenizer | None = None):
        import bm25s

        self.index = index
        self.embedder = embedder
        self.config = config
        self.tokenize = tokenizer or Tokenizer()
        self.chunks: list[Chunk] = index.chunks
        self._bm25 = None
        if self.chunks:
            self._bm25 = bm25s.BM25()
            self._bm25.index([t or ["∅"] for t in index.tokens], show_progress=False)
        metas = [index.docs[c.doc].meta for c in self.chunks]
        self._plan_year = np.array([m.get("plan_year") or 0 for m in metas])
        self._year = np.array([c.year or 0 for c in self.chunks])
        self._city = np.array([m.get("city", "") for m in metas], dtype=object)
        self._region = np.array([c.region for c in self.chunks], dtype=object)
        self._part = np.array([c.part for c in self.chunks], dtype=object)
        self._level = np.array([c.level for c in self.chunks], dtype=object)
        self._doc = np.array([c.doc for c in self.chunks], dtype=object)

    @property
    def regions(self) -> list[str]:
        return sorted({d.meta.get("region", "") for d in self.index.docs.values()} - {""})

    @property
    def cities(self) -> list[str]:
        return sorted({d.meta.get("region", "") for d in self.index.docs.values() if d.meta.get("level") == "city"} - {""})

    def understand(self, question: str) -> Filters:
        return parse_query(question, self.regions, self.cities)

    def mask(self, f: Filters) -> np.ndarray:
        """Boolean mask of chunks passing the filters."""
        n = len(self.chunks)
        keep = np.ones(n, dtype=bool)
        if f.regions:
            # A city's report also speaks for its districts ("云台区依托…获批建设").
            keep &= np.isin(self._region, f.regions) | self._mentions(f.regions)
        if f.city:
            keep &= (self._city == f.city) | (self._region == f.city)
        if f.year:
            keep &= (self._year == f.year) | ((self._plan_year == f.year) & (self._part == "plan"))
        if f.level:
            keep &= self._level == f.level
        if f.part:
            keep &= self._part == f.part
        if f.docs is not None:
            keep &= np.isin(self._doc, list(f.docs))
        if f.exclude_docs:
            keep &= ~np.isin(self._doc, list(f.exclude_docs))
        return keep

    def _mentions(self, regions: list[str]) -> np.ndarray:
        return np.array([any(r in c.text for r in regions) for c in self.chunks], dtype=bool)

    def search(self, query: str, k: int = 10, filters: Filters | None = None, *, auto: bool = True,
               fusion: str | None = None) -> list[Hit]:
        """Top-k chunks. With `auto`, filters named in the query are added to `filters`;
        if they leave nothing, the auto part is dropped (explicit filters always hold)."""
        if not self.chunks or not query.strip():
            return []
        explicit = filters or Filters()
        f = explicit
        if auto:
            f = self._merge(explicit, self.understand(query))
        keep = self.mask(f)
        if auto and not keep.any():
            keep = self.mask(explicit)
        if not keep.any():
            return []
        return self._fused(query, keep, k, fusion or self.config.fusion)

    @staticmethod
    def _merge(explicit: Filters, auto: Filters) -> Filters:
        return Filters(
            regions=explicit.regions or auto.regions, city=explicit.city or auto.city,
            year=explicit.year or auto.year, level=explicit.level, part=explicit.part,
            exclude_docs=explicit.exclude_docs, docs=explicit.docs,
        )

    def dense_scores(self, query: str, keep: np.ndarray, n: int) -> dict[int, float]:
        import faiss

        q = self.embedder.embed_queries([query])
        allowed = np.flatnonzero(keep)
        n = min(n, len(allowed))
        params = None
        if len(allowed) < len(self.chunks):
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed.astype(np.int64)))
        scores, ids = self.index.vectors.search(q, n, params=params)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}

    def lexical_scores(self, query: str, keep: np.ndarray, n: int) -> dict[int, float]:
        tokens = self.tokenize(query)
        if not tokens or self._bm25 is None:
            return {}
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
        scores = np.where(keep, scores, 0.0)
        top = np.argsort(-scores)[:n]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}

    def _fused(self, query: str, keep: np.ndarray, k: int, fusion: str) -> list[Hit]:
        n = max(self.config.candidates, k)
        dense = self.dense_scores(query, keep, n)
        lexical = self.lexical_scores(query, keep, n)
        if fusion == "dense":
            fused = dict(dense)
        elif fusion == "bm25":
            fused = dict(lexical)
        elif fusion == "weighted":
            fused = weighted_fusion(dense, lexical, self.config.dense_weight)
        else:
            fused = rrf_fusion(dense, lexical, self.config.rrf_k)
        order = sorted(fused, key=lambda i: (-fused[i], i))
        if ACROSS_REPORTS.search(query):
            order = diversify(order, [self.chunks[i].doc for i in order])
        order = order[:k]
        return [Hit(self.chunks[i], fused[i], dense.get(i), lexical.get(i)) for i in order]


def rrf_fusion(dense: dict[int, float], lexical: dict[int, float], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: Σ 1 / (k + rank) over the two rankings."""
    fused: dict[int, float] = {}
    for ranking in (dense, lexical):
        for rank, i in enumerate(sorted(ranking, key=lambda i: -ranking[i]), start=1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (k + rank)
    return fused


def weighted_fusion(dense: dict[int, float], lexical: dict[int, float], w: float = 0.5) -> dict[int, float]:
    """w · min-max-normalised cosine + (1 − w) · max-normalised BM25."""
    fused: dict[int, float] = {}
    if dense:
        lo, hi = min(dense.values()), max(dense.values())
        for i, s in dense.items():
            fused[i] = w * ((s - lo) / (hi - lo) if hi > lo else 1.0)
    if lexical:
        top = max(lexical.values())
        for i, s in lexical.items():
            fused[i] = fused.get(i, 0.0) + (1 - w) * (s / top if top > 0 else 0.0)
    return fused


def diversify(order: list[int], docs: list[str]) -> list[int]:
    """Round-robin over documents: each report's best chunk first, then each one's second…"""
    rounds: dict[str, int] = {}
    keyed = []
    for pos, (i, doc) in enumerate(zip(order, docs)):
        r = rounds.get(doc, 0)
        rounds[doc] = r + 1
        keyed.append((r, pos, i))
    return [i for _, _, i in sorted(keyed)]
