"""Tests for rag.load against the bad-input zoo and real seed reports."""
from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

import rag.load as load
from rag.load import SUPPORTED, LoadError, decode_bytes, list_files, load_corpus, load_file
from zoo import BAD, DOCX_TEXT, GOOD, PDF_LINES, REPORT, REPORT_GB18030, SMALL, make_zoo, text_pdf

HERE = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    desc = make_zoo(root)
    docs, errors = load_corpus(root)
    return root, desc, {d.id: d for d in docs}, errors


def test_zoo_describes_every_file(zoo):
    root, desc, _, _ = zoo
    listed = {p.relative_to(root).as_posix() for p in list_files(root)}
    assert listed == set(desc)
    assert set(desc) == set(GOOD) | set(BAD) | {"report.docx", "report.pdf"}


def test_five_encodings_give_identical_text(zoo):
    _, _, docs, _ = zoo
    same = ["gbk.txt", "utf16le-bom.txt", "utf16be-bom.txt", "utf8-bom.txt", "utf8.md"]
    for name in same:
        assert docs[name].text == REPORT, name
        assert not docs[name].text.startswith("\ufeff")
    assert docs["gb18030.txt"].text == REPORT_GB18030
    assert "𠀀" in docs["gb18030.txt"].text
    assert docs["gb18030.txt"].meta["encoding"] == "gb18030"
    assert docs["utf16be-bom.txt"].meta["encoding"] == "utf_16_be"
    assert docs["utf8-bom.txt"].meta["encoding"] == "utf_8_sig"


def test_good_files_all_loaded(zoo):
    root, _, docs, _ = zoo
    assert set(docs) == set(GOOD) | {"report.docx", "report.pdf"}
    for name, text in GOOD.items():
        d = docs[name]
        assert d.id == name and d.meta["path"] == name
        assert d.meta["bytes"] == (root / name).stat().st_size
        assert d.title == text.splitlines()[0]
    assert docs["folder.txt/inner.txt"].title == "附件：2021年科技创新平台名单"


def test_each_bad_file_gives_exactly_one_named_error(zoo):
    _, _, _, errors = zoo
    assert sorted(e.file for e in errors) == sorted(BAD)
    for e in errors:
        assert f"「{e.file}」" in e.error
        assert BAD[e.file] in e.error, (e.file, e.error)


def test_docx_reading_order_with_table(zoo):
    _, _, docs, _ = zoo
    d = docs["report.docx"]
    assert d.text == DOCX_TEXT
    assert d.title == "滨海区科技局2022年工作总结"
    assert "一、2022年工作情况" in d.text
    assert d.text.index("指标\t数值") < d.text.index("高新技术企业\t36家")


def test_pdf_text_layer(zoo):
    _, _, docs, _ = zoo
    d = docs["report.pdf"]
    assert [line.strip() for line in d.text.splitlines() if line.strip()] == PDF_LINES
    assert d.title == PDF_LINES[0] and d.meta["encoding"] is None


def test_huge_file_rejected_by_size_without_reading(zoo, monkeypatch):
    root = zoo[0]

    def no_open(*a, **k):
        raise AssertionError("huge file must not be opened")

    monkeypatch.setattr(load, "open", no_open, raising=False)
    with pytest.raises(LoadError) as e:
        load_file(root / "huge.txt", root)
    assert e.value.file == "huge.txt"
    assert str(e.value) == e.value.message
    assert "文件过大（50 MB，上限 20 MB）" in str(e.value)


def test_max_bytes_is_configurable(tmp_path):
    (tmp_path / "r.txt").write_text(SMALL * 100, encoding="utf-8")
    with pytest.raises(LoadError, match=r"文件过大（7.2 KB，上限 1 KB）"):
        load_file(tmp_path / "r.txt", tmp_path, max_bytes=1024)


def test_directory_symlink_loop_is_reported_not_followed(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "r.txt").write_text(SMALL, encoding="utf-8")
    os.symlink("..", tmp_path / "sub" / "up")
    os.symlink("/etc/hostname", tmp_path / "outside.txt")
    os.symlink("sub/r.txt", tmp_path / "inside.txt")
    docs, errors = load_corpus(tmp_path)
    assert sorted(d.id for d in docs) == ["inside.txt", "sub/r.txt"]
    msgs = {e.file: e.error for e in errors}
    assert "指向文件夹的符号链接" in msgs["sub/up"]
    assert "指向语料目录之外的符号链接" in msgs["outside.txt"]


def test_hidden_entries_skipped_and_listing_sorted(tmp_path):
    for name in ("b.txt", "a.txt", ".hidden.txt", ".git/x.txt", "c/d.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(SMALL, encoding="utf-8")
    got = [p.relative_to(tmp_path).as_posix() for p in list_files(tmp_path)]
    assert got == ["a.txt", "b.txt", "c/d.txt"]
    assert list_files(tmp_path) == list_files(tmp_path)


def test_missing_root_raises(tmp_path):
    with pytest.raises(LoadError, match="不存在"):
        list_files(tmp_path / "nope")


def test_unreadable_file(tmp_path, monkeypatch):
    p = tmp_path / "锁定 报告.txt"
    p.write_text(SMALL, encoding="utf-8")
    if os.geteuid() == 0:  # root reads anything; simulate the denied open
        def denied(*a, **k):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(load, "open", denied, raising=False)
    else:
        p.chmod(0)
    try:
        docs, errors = load_corpus(tmp_path)
    finally:
        p.chmod(0o644)
    assert docs == []
    assert [(e.file, e.error) for e in errors] == [("锁定 报告.txt", "「锁定 报告.txt」没有读取权限，已跳过")]


def test_unreadable_folder_reported(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "r.txt").write_text(SMALL, encoding="utf-8")
    if os.geteuid() == 0:  # root lists any folder; simulate the denied scandir
        real = os.scandir

        def denied(path="."):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)
        monkeypatch.setattr(os, "scandir", denied)
    else:
        locked.chmod(0)
    try:
        _, errors = load_corpus(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert [e.file for e in errors] == ["locked"]
    assert "无法读取的文件夹" in errors[0].error


def test_unsupported_extensions_list_supported(tmp_path):
    (tmp_path / "表格.xlsx").write_bytes(b"PK\x03\x04junk")
    (tmp_path / "README").write_text("hello", encoding="utf-8")
    _, errors = load_corpus(tmp_path)
    msgs = {e.file: e.error for e in errors}
    assert msgs["表格.xlsx"] == "「表格.xlsx」的格式（.xlsx）不支持，仅支持 .txt、.md、.docx、.pdf 文件"
    assert "无扩展名" in msgs["README"]
    assert all(ext in msgs["README"] for ext in SUPPORTED)


def test_undecodable_file_name(tmp_path):
    with open(os.path.join(os.fsencode(tmp_path), b"\xb1\xa8\xb8\xe6.txt"), "wb") as f:  # GBK "报告"
        f.write(SMALL.encode("utf-8"))
    docs, errors = load_corpus(tmp_path)
    assert docs == [] and len(errors) == 1
    assert errors[0].file.endswith(".txt") and "不是有效的 UTF-8 编码" in errors[0].error
    errors[0].error.encode("utf-8")  # safe to show and serialise


def test_owner_password_only_pdf_loads(tmp_path):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(PDF_LINES))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    writer.write(tmp_path / "restricted.pdf")
    assert load_file(tmp_path / "restricted.pdf", tmp_path).title == PDF_LINES[0]


def test_docx_renamed_ole_and_empty_docx(tmp_path):
    import docx

    (tmp_path / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    docx.Document().save(tmp_path / "empty.docx")
    _, errors = load_corpus(tmp_path)
    msgs = {e.file: e.error for e in errors}
    assert "可能设有密码" in msgs["locked.docx"]
    assert "为空文件" in msgs["empty.docx"]


def test_decode_bytes_keeps_text_exact():
    text = "第一行\r\n第二行\r\n\t缩进\n"
    assert decode_bytes(text.encode("gbk"), "x.txt") == text
    assert decode_bytes(text.encode("utf-16-le"), "x.txt") == text  # no BOM
    assert decode_bytes(("\ufeff" + text).encode("utf-8"), "x.txt") == text
    with pytest.raises(LoadError) as e:
        decode_bytes(bytes(range(1, 32)) * 10, "子目录/x.txt")
    assert e.value.file == "子目录/x.txt"
    assert str(e.value) == "「子目录/x.txt」无法识别文件编码或不是文本文件，请另存为 UTF-8 编码的 .txt 后再上传"


def test_unexpected_exception_becomes_ingest_error(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text(SMALL, encoding="utf-8")
    (tmp_path / "b.txt").write_text(SMALL, encoding="utf-8")
    real = load._decode

    def flaky(data, name):
        if name == "a.txt":
            raise RuntimeError("boom")
        return real(data, name)

    monkeypatch.setattr(load, "_decode", flaky)
    docs, errors = load_corpus(tmp_path)
    assert [d.id for d in docs] == ["b.txt"]
    assert [(e.file, e.error) for e in errors] == [("a.txt", "「a.txt」读取失败：boom")]


def _seed_files() -> list[Path]:
    for folder in (HERE / "corpus", HERE.parent / "shared" / "seeds"):
        found = sorted(p for p in folder.rglob("*.txt") if not p.name.startswith("."))
        if found:
            return found[:2]
    return []


@pytest.mark.skipif(not _seed_files(), reason="no seed reports in corpus/ or ../shared/seeds")
def test_real_seed_reports_load(tmp_path):
    for src in _seed_files():
        shutil.copy(src, tmp_path / src.name)
        original = src.read_bytes().decode("utf-8-sig")
        try:
            (tmp_path / f"gbk-{src.name}").write_bytes(original.encode("gbk"))
        except UnicodeEncodeError:
            pass
    docs, errors = load_corpus(tmp_path)
    assert errors == []
    by_id = {d.id: d for d in docs}
    for src in _seed_files():
        original = src.read_bytes().decode("utf-8-sig")
        assert by_id[src.name].text == original
        assert by_id[src.name].title == next(line.strip() for line in original.splitlines() if line.strip())
        if f"gbk-{src.name}" in by_id:
            assert by_id[f"gbk-{src.name}"].text == original
