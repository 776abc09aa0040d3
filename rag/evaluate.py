"""Evaluation against a questions file (format: eval/README.md).

Gold matching rule, used everywhere: a hit matches a gold `{doc, quote}` when `hit.doc == gold.doc`
and its `[start, end)` covers at least half of the quote's characters at the quote's first
occurrence in the decoded original text. recall@k of a question is the share of its gold entries
matched within the top k; questions with empty gold are left out of recall.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable


def load_questions(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def gold_span(gold: dict, texts: dict[str, str]) -> tuple[int, int] | None:
    """[start, end) of the quote's first occurrence, or None when the quote is not in its document."""
    text = texts.get(gold["doc"])
    if text is None:
        return None
    pos = text.find(gold["quote"])
    return None if pos < 0 else (pos, pos + len(gold["quote"]))


def matches(doc: str, start: int, end: int, gold: dict, texts: dict[str, str]) -> bool:
    if doc != gold["doc"]:
        return False
    span = gold_span(gold, texts)
    if span is None:
        return False
    overlap = min(end, span[1]) - max(start, span[0])
    return overlap * 2 >= span[1] - span[0]


def score_ranking(spans: list[tuple[str, int, int]], gold: list[dict], texts: dict[str, str],
                  ks: Iterable[int] = (1, 5, 10)) -> dict[str, float]:
    """recall@k, MRR and nDCG@10 of one ranked list of (doc, start, end)."""
    first_rank = {}  # gold index -> first rank (1-based) that matches it
    hit_ranks = []
    for rank, (doc, s, e) in enumerate(spans, start=1):
        matched = [g for g, item in enumerate(gold) if matches(doc, s, e, item, texts)]
        if matched:
            hit_ranks.append(rank)
        for g in matched:
            first_rank.setdefault(g, rank)
    out = {f"recall@{k}": sum(1 for r in first_rank.values() if r <= k) / len(gold) for k in ks}
    out["mrr"] = 1.0 / min(hit_ranks) if hit_ranks else 0.0
    # nDCG@10: a rank gains when it matches a gold entry not matched higher up.
    dcg = sum(1.0 / math.log2(r + 1) for r in sorted(set(first_rank.values())) if r <= 10)
    idcg = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(gold), 10) + 1))
    out["ndcg@10"] = dcg / idcg if idcg else 0.0
    return out


def aggregate(rows: list[tuple[str, dict[str, float]]]) -> dict:
    """Mean of each metric, overall and per question type."""
    by_type: dict[str, list[dict]] = defaultdict(list)
    for qtype, metrics in rows:
        by_type[qtype].append(metrics)
        by_type["overall"].append(metrics)

    def mean(items: list[dict]) -> dict:
        keys = items[0].keys() if items else []
        return {k: round(sum(m[k] for m in items) / len(items), 4) for k in keys} | {"n": len(items)}

    return {t: mean(v) for t, v in sorted(by_type.items())}


def evaluate_search(search: Callable[[str, dict], list[tuple[str, int, int]]], questions: list[dict],
                    texts: dict[str, str], k: int = 10) -> dict:
    """Retrieval metrics for every question with gold; `search(question, record)` returns ranked spans."""
    rows, misses = [], []
    for q in questions:
        if not q.get("gold"):
            continue
        spans = search(q["question"], q)[:k]
        metrics = score_ranking(spans, q["gold"], texts, ks=(1, 5, 10))
        rows.append((q["type"], metrics))
        if metrics["recall@5"] < 1.0:
            misses.append({"id": q["id"], "type": q["type"], "recall@5": metrics["recall@5"]})
    return {"metrics": aggregate(rows), "misses": misses}
