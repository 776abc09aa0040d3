"""Encodings give identical chunks; metadata read from text matches corpus-dev ground truth."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.clean import clean
from rag.ingest import prepare
from rag.load import load_corpus
from rag.meta import extract_meta, split_title

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ["binhai-2022-annual.txt", "002_b16fed0983384786.txt", "001_8dd8c04ef119a0fa.txt"]


@pytest.mark.parametrize("name", REPORTS)
def test_encodings_give_same_chunks_and_spans(tmp_path, name):
    text = (ROOT / "corpus" / name).read_text("utf-8")
    variants = {"utf8": text.encode("utf-8"), "utf8bom": b"\xef\xbb\xbf" + text.encode("utf-8"),
                "utf16": text.encode("utf-16"), "utf16be": b"\xfe\xff" + text.encode("utf-16-be")}
    try:
        variants["gbk"] = text.encode("gbk")
    except UnicodeEncodeError:
        variants["gb18030"] = text.encode("gb18030")
    for label, data in variants.items():
        (tmp_path / label).mkdir()
        (tmp_path / label / "report.txt").write_bytes(data)
    results = {}
    for label in variants:
        docs, errors = load_corpus(tmp_path / label)
        assert not errors and docs[0].text == text, label
        results[label] = [(c.start, c.end, c.text, c.section, c.part) for c in prepare(docs)[0].chunks]
    first = results.pop("utf8")
    assert first
    for label, chunks in results.items():
        assert chunks == first, label


def test_metadata_matches_ground_truth():
    truth = [json.loads(l) for l in (ROOT / "eval" / "facts.jsonl").read_text("utf-8").splitlines() if l.strip()]
    docs, _ = load_corpus(ROOT / "corpus")
    by_id = {p.doc.id: p.doc for p in prepare(docs)}
    wrong = []
    for t in truth:
        meta = by_id[t["doc"]].meta
        for key in ("region", "level", "year", "plan_year"):
            if meta[key] != t[key]:
                wrong.append((t["doc"], key, meta[key], t[key]))
        assert by_id[t["doc"]].title == t["title"]
    assert not wrong
    cities = sum(by_id[t["doc"]].meta["city"] == t["city"] for t in truth)
    assert cities >= len(truth) - 1  # one county is named by no text in the corpus


@pytest.mark.parametrize("title,opening,expect", [
    ("滨海区科技局2022年工作总结和2023年工作计划", "", {"region": "滨海区", "level": "district", "year": 2022, "plan_year": 2023, "kind": "annual"}),
    ("禾阳县科学技术局2022年工作总结暨2023年工作思路", "", {"region": "禾阳县", "level": "county", "year": 2022, "plan_year": 2023}),
    ("石门县科技局2022年上半年工作总结及下半年工作安排", "", {"region": "石门县", "year": 2022, "plan_year": 2022, "kind": "halfyear"}),
    ("海川市科技局2022年工作总结和2023年工作计划", "", {"region": "海川市", "level": "city"}),
    ("", "2021年，在区委区政府的坚强领导下，X区科技局聚焦贯彻落实全省工作动员大会", {"region": "X区", "level": "district", "year": 2021}),
    ("区科技局2023年H作总结2024年H作思路", "今年以来,市南区科技局深入实施创新驱动发展战略", {"region": "市南区", "year": 2023, "plan_year": 2024}),
    ("科技局2022年工作总结和2023年工作打算", "2022年，市科技局坚持以习近平新时代中国特色社会主义思想为指导", {"region": "", "level": "city", "year": 2022}),
    ("东临省海川市滨海区科技局2022年工作要点", "", {"region": "滨海区", "kind": "plan", "plan_year": 2022}),
])
def test_extract_meta_table(title, opening, expect):
    meta = extract_meta(title, opening)
    assert {k: meta[k] for k in expect} == expect


def test_split_title_of_one_paragraph_report():
    text = clean((ROOT / "corpus" / "002_b16fed0983384786.txt").read_text("utf-8")).text
    title, body = split_title(text)
    assert title == "区科技局2023年H作总结2024年H作思路"
    assert text[body:].startswith("今年以来")
