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


# --- cited answers (policy-rag eval-answers) ----------------------------------------------------

import re  # noqa: E402  (this section was added after the retrieval metrics above)

ANSWER_NUMBER = r"\d+(?:\.\d+)?"


def answer_spans(answer: dict) -> list[tuple[str, int, int]]:
    """Every cited span of an answer (claims, then list items)."""
    spans = []
    for claim in answer.get("claims", []):
        spans += [(c["doc"], c["start"], c["end"]) for c in claim.get("citations", [])]
    for item in answer.get("items", []):
        spans += [(c["doc"], c["start"], c["end"]) for c in item.get("citations", [])]
    return spans


def support_recall(answer: dict, gold: list[dict], texts: dict[str, str]) -> float:
    """Share of gold quotes matched (rule: `matches`) by some citation of the answer."""
    spans = answer_spans(answer)
    hit = sum(1 for g in gold if any(matches(d, s, e, g, texts) for d, s, e in spans))
    return hit / len(gold) if gold else 0.0


def item_matches(gold_item: str, item: dict) -> bool:
    """A gold list entry (a region, or a platform name) against an answer item."""
    region, name = item.get("region", ""), item.get("name", "")
    return gold_item == region or (len(gold_item) >= 4 and (gold_item in name or (name and name in gold_item)))


def list_scores(answer: dict, answer_items: list[str]) -> tuple[int, int, int, int]:
    """(predicted matched, predicted, gold matched, gold) for one list question; the predicted
    entries are the answer's items, one per distinct region."""
    items = answer.get("items", [])
    regions: dict[str, list[dict]] = {}
    for it in items:
        regions.setdefault(it.get("region", ""), []).append(it)
    predicted = [its for its in regions.values()]
    p_ok = sum(1 for its in predicted if any(item_matches(g, it) for g in answer_items for it in its))
    g_ok = sum(1 for g in answer_items if any(item_matches(g, it) for it in items))
    return p_ok, len(predicted), g_ok, len(answer_items)


def numbers_of(text: str) -> list[str]:
    return re.findall(ANSWER_NUMBER, text or "")


def number_match(reference: str, answer_text: str) -> bool | None:
    """Whether every number of the reference answer appears in the answer text (None: it has none)."""
    nums = numbers_of(reference)
    if not nums:
        return None
    return all(re.search(rf"(?<![\d.]){re.escape(n)}(?![\d]|\.\d)", answer_text or "") for n in nums)


def evaluate_answers(ask: Callable[[str, dict], dict], questions: list[dict], texts: dict[str, str]) -> dict:
    """Scores of cited answers: refusals, support recall, list items, factoid numbers.

    `ask(question, record)` returns an answer as `Answer.to_dict()`.
    """
    neg = [q for q in questions if q["type"] == "negative"]
    rows = []
    for q in questions:
        a = ask(q["question"], q)
        row = {"id": q["id"], "type": q["type"], "refused": bool(a.get("refused"))}
        if q.get("gold"):
            row["support_recall"] = support_recall(a, q["gold"], texts)
        if q["type"] == "list" and q.get("answer_items"):
            row["list"] = list_scores(a, q["answer_items"])
            row["items"] = [it.get("region") for it in a.get("items", [])]
        if q["type"] == "factoid":
            row["number_match"] = number_match(q.get("answer", ""), a.get("answer", ""))
        rows.append(row)
    by_type: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_type[r["type"]].append(r)
    pos = [r for r in rows if r["type"] != "negative"]
    lists = [r["list"] for r in rows if "list" in r]
    nums = [r["number_match"] for r in rows if r.get("number_match") is not None]

    def ratio(a: float, b: float) -> float:
        return round(a / b, 4) if b else 0.0

    support = {t: round(sum(r["support_recall"] for r in rs if "support_recall" in r)
                        / max(1, sum(1 for r in rs if "support_recall" in r)), 4)
               for t, rs in sorted(by_type.items()) if any("support_recall" in r for r in rs)}
    with_gold = [r for r in rows if "support_recall" in r]
    support["overall"] = round(sum(r["support_recall"] for r in with_gold) / max(1, len(with_gold)), 4)
    metrics = {
        "questions": len(rows),
        "negatives_refused": ratio(sum(r["refused"] for r in rows if r["type"] == "negative"), len(neg)),
        "false_refusals": ratio(sum(r["refused"] for r in pos), len(pos)),
        "support_recall": support,
        "list_item_precision": ratio(sum(x[0] for x in lists), sum(x[1] for x in lists)),
        "list_item_recall": ratio(sum(x[2] for x in lists), sum(x[3] for x in lists)),
        "list_item_precision_macro": ratio(sum(x[0] / x[1] if x[1] else 0.0 for x in lists), len(lists)),
        "list_item_recall_macro": ratio(sum(x[2] / x[3] if x[3] else 0.0 for x in lists), len(lists)),
        "factoid_number_match": ratio(sum(nums), len(nums)),
        "counts": {"negatives": len(neg), "others": len(pos), "list": len(lists), "factoid_with_numbers": len(nums)},
    }
    misses = [r for r in rows if (r["type"] == "negative") != r["refused"]
              or (r.get("number_match") is False) or ("list" in r and (r["list"][0] < r["list"][1] or r["list"][2] < r["list"][3]))
              or r.get("support_recall", 1.0) < 1.0]
    return {"metrics": metrics, "misses": misses}


# ---- similar wording (issue 5, rag.similar) -------------------------------------------------

def similar_spans(results) -> list[tuple[str, int, int]]:
    """The ranked list of one `similar` result (a list of SentenceMatches): the matches of all
    draft sentences merged by score, each as its matched sentence's (doc, start, end)."""
    ranked = sorted(((m.score, n, i, m) for i, sm in enumerate(results) for n, m in enumerate(sm.matches)),
                    key=lambda x: (-x[0], x[1], x[2]))
    return [(m.doc, m.start, m.end) for *_, m in ranked]


def evaluate_similar(similar: Callable[[str, dict], list], questions: list[dict], texts: dict[str, str], *,
                     search: Callable[[str, dict], list[tuple[str, int, int]]] | None = None) -> dict:
    """recall@1/@5 and MRR of `similar(question, record)` (a list of SentenceMatches) on the
    questions of type "similar", and of plain `search` spans on the same questions when given.

    Also counts draft sentences that got no match at all (the minimum-similarity note), which
    must stay 0 on paraphrases of corpus passages."""
    qs = [q for q in questions if q.get("type") == "similar" and q.get("gold")]
    rows = {"similar": [], "search": []}
    misses, unmatched, sentences = [], 0, 0
    for q in qs:
        results = similar(q["question"], q)
        sentences += len(results)
        unmatched += sum(1 for sm in results if not sm.matches)
        m = score_ranking(similar_spans(results), q["gold"], texts, ks=(1, 5))
        rows["similar"].append(("similar", m))
        if search is not None:
            rows["search"].append(("similar", score_ranking(search(q["question"], q), q["gold"], texts, ks=(1, 5))))
        if m["recall@5"] < 1.0:
            misses.append({"id": q["id"], "recall@1": m["recall@1"], "recall@5": m["recall@5"]})

    def summary(items: list) -> dict:
        agg = aggregate(items).get("overall", {"n": 0})
        return {key: agg[key] for key in ("n", "recall@1", "recall@5", "mrr") if key in agg}

    out = {"similar": summary(rows["similar"]), "sentences": sentences, "unmatched_sentences": unmatched,
           "misses": misses}
    if search is not None:
        out["search"] = summary(rows["search"])
    return out
