"""Corpus management (rag.library): safe upload names, atomic saves, delete, incremental re-index."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rag import library
from rag.config import Config
from rag.load import LoadError
from rag.pipeline import Pipeline

GBK_REPORT = ("测试区科技局2023年工作总结\n\n"
              "一、2023年工作情况\n"
              "（一）创新平台建设。全年新增市级重点实验室2家，测试区量子雪松实验室获批建设。\n"
              "（二）企业培育。高新技术企业达到88家。\n")


@pytest.mark.parametrize("name, ok, fragment", [
    ("报告 2023.txt", True, None),
    ("REPORT.TXT", True, None),
    ("滨海区2022年工作总结.docx", True, None),
    ("a.pdf", True, None),
    ("notes.md", True, None),
    ("  报告.txt  ", True, None),  # outer spaces are dropped
    ("../../x.txt", False, "路径分隔符"),
    ("..\\..\\x.txt", False, "路径分隔符"),
    ("sub/x.txt", False, "路径分隔符"),
    ("/etc/passwd", False, "绝对路径"),
    ("C:\\Windows\\x.txt", False, "绝对路径"),
    ("\\\\server\\share\\x.txt", False, "绝对路径"),
    ("a\x00b.txt", False, "控制字符"),
    ("a\nb.txt", False, "控制字符"),
    (".hidden.txt", False, "隐藏文件"),
    ("..", False, "不是有效的文件名"),
    ("", False, "文件名为空"),
    ("   ", False, "文件名为空"),
    ("x.exe", False, "不支持"),
    ("x.txt.exe", False, "不支持"),
    ("README", False, "无扩展名"),
    ("old.doc", False, ".docx"),
    ("科" * 90 + ".txt", False, "过长"),
])
def test_upload_names(name, ok, fragment):
    if ok:
        assert library.check_upload_name(name) == name.strip()
        return
    with pytest.raises(LoadError) as e:
        library.check_upload_name(name)
    assert fragment in e.value.message
    if name.strip():  # the message names the file (control characters made visible)
        shown = name.strip().replace("\x00", "\\x00").replace("\n", "\\x0a")
        assert shown[:20] in e.value.message


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".upload-")]


def test_save_upload_writes_exact_bytes_atomically(tmp_path):
    corpus = tmp_path / "corpus"
    data = GBK_REPORT.encode("gbk")
    saved = library.save_upload(corpus, "测试区 2023.txt", data)
    assert saved.name == "测试区 2023.txt" and not saved.replaced
    assert (corpus / "测试区 2023.txt").read_bytes() == data
    assert _leftovers(corpus) == []
    again = library.save_upload(corpus, "测试区 2023.txt", GBK_REPORT.replace("88", "99").encode("gbk"))
    assert again.replaced
    assert "99家" in (corpus / "测试区 2023.txt").read_bytes().decode("gbk")


def test_save_upload_from_a_path(tmp_path):
    src = tmp_path / "upload" / "原文件.txt"
    src.parent.mkdir()
    src.write_text(GBK_REPORT, encoding="utf-8")
    saved = library.save_upload(tmp_path / "corpus", src.name, src)
    assert saved.path.read_text("utf-8") == GBK_REPORT


@pytest.mark.parametrize("name", ["../../x.txt", "/tmp/x.txt", "..\\x.txt", "a\x00b.txt"])
def test_traversal_never_writes_outside(tmp_path, name):
    corpus = tmp_path / "a" / "b" / "corpus"
    with pytest.raises(LoadError):
        library.save_upload(corpus, name, GBK_REPORT.encode("utf-8"))
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == []


@pytest.mark.parametrize("name, data, fragment", [
    ("junk.txt", bytes(range(256)) * 40, "无法识别文件编码"),
    ("empty.txt", b"", "空文件"),
    ("blank.md", b"   \n\n  ", "空文件"),
    ("fake.docx", b"not a zip at all", "不是有效的 .docx"),
    ("fake.pdf", b"hello", "不是有效的 PDF"),
])
def test_bad_content_is_refused_and_not_saved(tmp_path, name, data, fragment):
    corpus = tmp_path / "corpus"
    with pytest.raises(LoadError) as e:
        library.save_upload(corpus, name, data)
    assert fragment in e.value.message and name in e.value.message
    assert not corpus.exists() or list(corpus.iterdir()) == []


def test_oversized_upload_is_refused(tmp_path):
    with pytest.raises(LoadError) as e:
        library.save_upload(tmp_path / "corpus", "big.txt", "科技".encode() * 1000, max_bytes=1000)
    assert "文件过大" in e.value.message and "big.txt" in e.value.message


def test_upload_replaces_a_symlink_not_its_target(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("外部文件，不能被改写", encoding="utf-8")
    os.symlink(outside, corpus / "evil.txt")
    library.save_upload(corpus, "evil.txt", GBK_REPORT.encode("utf-8"))
    assert outside.read_text("utf-8") == "外部文件，不能被改写"
    assert not (corpus / "evil.txt").is_symlink()


def test_delete_report(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text("x", encoding="utf-8")
    (corpus / "sub" / "b.txt").write_text("y", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("z", encoding="utf-8")
    assert library.delete_report(corpus, "a.txt") == corpus / "a.txt"
    assert not (corpus / "a.txt").exists()
    library.delete_report(corpus, "sub/b.txt")
    assert not (corpus / "sub" / "b.txt").exists()
    for bad, fragment in [("../outside.txt", "不是文档库中的报告"), (str(tmp_path / "outside.txt"), "不是文档库中的报告"),
                          ("a.txt", "不在文档库中"), ("", "请先选择"), ("sub", "不在文档库中"),
                          ("a\x00.txt", "不是文档库中的报告")]:
        with pytest.raises(LoadError) as e:
            library.delete_report(corpus, bad)
        assert fragment in e.value.message
    assert (tmp_path / "outside.txt").exists()


# --- with a real index (a private copy of the session index and of corpus/) --------------------

def private_pipeline(built: Pipeline, corpus: Path, index_dir: Path) -> Pipeline:
    """A pipeline over `corpus` whose index starts as a copy of the session index (same embedder)."""
    shutil.copytree(built.config.index_dir, index_dir, symlinks=True)
    return Pipeline(Config(corpus_dir=corpus, index_dir=index_dir), embedder=built.embedder)


@pytest.mark.slow
def test_list_reports(built_index):
    index = built_index.index
    reports = library.list_reports(index)
    assert {r.id for r in reports} == set(index.docs)
    assert sum(r.chunks for r in reports) == len(index.chunks)
    binhai = next(r for r in reports if r.id == "binhai-2022-annual.txt")
    assert (binhai.title, binhai.region, binhai.year) == ("滨海区科技局2022年工作总结和2023年工作计划", "滨海区", 2022)
    assert binhai.chunks > 0
    assert library.index_errors(index) == []


@pytest.mark.slow
def test_add_and_remove_reindex_incrementally(built_index, corpus_copy, tmp_path):
    pipe = private_pipeline(built_index, corpus_copy, tmp_path / "index")
    before = len(pipe.index.chunks)
    seen = []
    result = library.add_files(pipe, [("测试区2023.txt", GBK_REPORT.encode("gbk")),
                                      ("../../evil.txt", b"x"), ("bad.exe", b"MZ")],
                               progress=lambda d, t, w: seen.append((d, t, w)))
    assert [s.name for s in result.saved] == ["测试区2023.txt"]
    assert len(result.errors) == 2 and "../../evil.txt" in result.errors[0].error and "bad.exe" in result.errors[1].error
    r = result.report
    assert 0 < r.embedded and r.reused >= before  # only the new report's text was embedded
    assert seen and seen[-1][0] == seen[-1][1]
    assert "测试区2023.txt" in pipe.index.docs
    assert pipe.index.docs["测试区2023.txt"].meta.get("region") == "测试区"
    hits = pipe.search("量子雪松实验室", 3)
    assert hits and hits[0].chunk.doc == "测试区2023.txt"
    assert not (tmp_path / "evil.txt").exists() and not (corpus_copy.parent.parent / "evil.txt").exists()

    again = library.add_files(pipe, [("测试区2023.txt", GBK_REPORT.encode("gbk"))])
    assert again.saved[0].replaced and again.report.embedded == 0  # unchanged text: nothing re-embedded

    r = library.remove_report(pipe, "测试区2023.txt")
    assert r.embedded == 0 and "测试区2023.txt" not in pipe.index.docs
    assert not (corpus_copy / "测试区2023.txt").exists()
    assert len(pipe.index.chunks) == before
    with pytest.raises(LoadError):
        library.remove_report(pipe, "测试区2023.txt")


def test_index_job_builds_in_background(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "test-2023.txt").write_bytes(GBK_REPORT.encode("gbk"))
    pipe = Pipeline(Config(corpus_dir=corpus, index_dir=tmp_path / "index"))
    job = library.IndexJob(pipe, show_bar=False).start()
    seen = []
    library.watch(job, lambda d, t, w: seen.append(w), poll=0.01)
    assert job.wait(600) and not job.running
    assert job.error is None and job.report.documents == 1
    assert pipe.has_index() and "test-2023.txt" in pipe.index.docs


def test_index_job_reports_errors_in_chinese(tmp_path):
    pipe = Pipeline(Config(corpus_dir=tmp_path / "missing", index_dir=tmp_path / "index"))
    job = library.IndexJob(pipe, show_bar=False).start()
    assert job.wait(600)
    assert job.error.startswith("建立索引失败") and "missing" in job.error
