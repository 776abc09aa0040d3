"""Corpus management for the UI: list the indexed reports, add uploaded files safely, delete a
report, re-index incrementally, and run the first build in the background with progress.

Uploaded names come from a browser or an API client and are never trusted: a name must be a
plain file name (no folders, no absolute path, no NUL or control characters, not hidden) with a
supported extension, and its content must load (`rag.load.load_file`) before it is written
into the corpus folder, atomically (hidden temp file + rename). Every error is Chinese and
names the file.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .build import BuildReport, Progress
from .load import SUPPORTED, LoadError, load_file
from .store import StoredIndex
from .types import IngestError

MAX_NAME_BYTES = 255
_DRIVE = re.compile(r"^[A-Za-z]:")


class UploadError(LoadError):
    """An upload or delete refused before touching the corpus; `message` names the file."""


def _shown(name: str) -> str:
    """A name safe to print inside 「」: control characters made visible."""
    return "".join(f"\\x{ord(ch):02x}" if unicodedata.category(ch) == "Cc" else ch for ch in name)


def check_upload_name(name: str) -> str:
    """The name an uploaded file will get in the corpus folder, or UploadError.

    Accepts a plain file name such as "报告 2023.txt"; refuses paths ("../../x.txt",
    "/etc/passwd", "a\\b.txt"), NUL/control characters, hidden names (the loader skips them),
    over-long names and unsupported extensions.
    """
    if name is None or not str(name).strip():
        raise UploadError("", "文件名为空，请选择要上传的文件")
    name = str(name).strip()
    shown = _shown(name)
    if "\x00" in name or any(unicodedata.category(ch) == "Cc" for ch in name):
        raise UploadError(shown, f"「{shown}」的文件名含有非法的控制字符，请重命名后再上传")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise UploadError(shown, f"「{shown}」是绝对路径，只能上传文件本身，不能指定保存位置")
    if "/" in name or "\\" in name:
        raise UploadError(shown, f"「{shown}」的文件名含有路径分隔符，只能上传文件本身，不能指定保存位置")
    if name in (".", ".."):
        raise UploadError(shown, f"「{shown}」不是有效的文件名")
    if name.startswith("."):
        raise UploadError(shown, f"「{shown}」以“.”开头，是隐藏文件名，不会被索引，请重命名后再上传")
    name = unicodedata.normalize("NFC", name)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadError(shown, f"「{shown[:40]}…」的文件名过长，请缩短后再上传")
    ext = os.path.splitext(name)[1].lower()
    if ext == ".doc":
        raise UploadError(shown, f"「{shown}」是旧版 Word（.doc）格式，请用 Word 另存为 .docx 后再上传")
    if ext not in SUPPORTED:
        raise UploadError(shown, f"「{shown}」的格式（{ext or '无扩展名'}）不支持，仅支持 {'、'.join(SUPPORTED)} 文件")
    return name


def _inside(root: Path, target: Path) -> bool:
    root = root.resolve()
    try:
        target.parent.resolve().relative_to(root)
    except ValueError:
        return False
    return True


@dataclass
class Saved:
    name: str  # the report's id in the corpus (its file name)
    path: Path
    replaced: bool  # a report of that name existed and was overwritten


def save_upload(corpus_dir: Path, name: str, source: Path | bytes, *, max_bytes: int = 20 * 2**20) -> Saved:
    """Validate `name` and the content (from a file path or bytes), then write it into corpus_dir.

    The content is loaded with the real loader first (in a private temp folder), so a binary,
    empty, encrypted or oversized file is refused with the loader's Chinese message and never
    reaches the corpus. The write is atomic: a hidden temp file in corpus_dir, then a rename.
    """
    corpus_dir = Path(corpus_dir)
    safe = check_upload_name(name)
    if isinstance(source, (bytes, bytearray)):
        size = len(source)
    else:
        source = Path(source)
        try:
            size = source.stat().st_size
        except OSError as e:
            raise UploadError(safe, f"「{safe}」读取失败：{e.strerror or e}") from None
    if size > max_bytes:
        mb = max_bytes / 2**20
        raise UploadError(safe, f"「{safe}」文件过大（上限 {mb:g} MB），请拆分后再上传")

    with tempfile.TemporaryDirectory(prefix="policy-rag-upload-") as check_dir:
        probe = Path(check_dir) / safe
        if isinstance(source, (bytes, bytearray)):
            probe.write_bytes(source)
        else:
            shutil.copyfile(source, probe)
        load_file(probe, Path(check_dir), max_bytes)  # raises LoadError naming the file

        corpus_dir.mkdir(parents=True, exist_ok=True)
        target = corpus_dir / safe
        if not _inside(corpus_dir, target):  # defence in depth; names have no separators
            raise UploadError(safe, f"「{safe}」不在文档库目录内，已拒绝")
        if target.is_dir() and not target.is_symlink():
            raise UploadError(safe, f"「{safe}」与文档库中的文件夹同名，请重命名后再上传")
        replaced = target.exists() or target.is_symlink()
        fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, open(probe, "rb") as src:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)  # replaces a symlink itself, never its target
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return Saved(safe, target, replaced)


def delete_report(corpus_dir: Path, doc_id: str) -> Path:
    """Remove one report file (its id is its path relative to the corpus folder)."""
    corpus_dir = Path(corpus_dir)
    if not doc_id or not str(doc_id).strip():
        raise UploadError("", "请先选择要删除的报告")
    doc_id = str(doc_id)
    shown = _shown(doc_id)
    parts = doc_id.replace("\\", "/").split("/")
    if ("\x00" in doc_id or doc_id.startswith(("/", "\\")) or _DRIVE.match(doc_id)
            or any(p in ("", ".", "..") for p in parts)):
        raise UploadError(shown, f"「{shown}」不是文档库中的报告，已拒绝")
    target = corpus_dir / Path(*parts)
    if not _inside(corpus_dir, target) or not (target.is_file() or target.is_symlink()):
        raise UploadError(shown, f"「{shown}」不在文档库中（可能已被删除）")
    target.unlink()
    return target


@dataclass
class Report:
    id: str
    title: str
    region: str
    year: int | None
    chunks: int
    kind: str = ""


def list_reports(index: StoredIndex) -> list[Report]:
    """The indexed reports with their chunk counts, by region, year and title."""
    counts = Counter(c.doc for c in index.chunks)
    rows = [Report(d.id, d.title, d.meta.get("region", ""), d.meta.get("year"), counts.get(d.id, 0),
                   d.meta.get("kind", "")) for d in index.docs.values()]
    return sorted(rows, key=lambda r: (r.region or "\uffff", r.year or 0, r.title, r.id))


def index_errors(index: StoredIndex) -> list[IngestError]:
    """Files the last build could not read (recorded in the manifest)."""
    return [IngestError(e.get("file", ""), e.get("error", "")) for e in index.manifest.get("errors", []) or []]


@dataclass
class UploadResult:
    saved: list[Saved] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)  # refused uploads
    report: BuildReport | None = None  # the re-index (None when nothing was saved)


def add_files(pipeline, files: Iterable[tuple[str, Path | bytes]], *, progress: Progress | None = None,
              show_bar: bool = False) -> UploadResult:
    """Save each (name, content) into the pipeline's corpus folder, then re-index incrementally.

    One bad file never stops the others; the index is rebuilt once, only if something was saved.
    """
    result = UploadResult()
    corpus_dir = Path(pipeline.config.corpus_dir)
    for name, source in files:
        try:
            result.saved.append(save_upload(corpus_dir, name, source, max_bytes=pipeline.config.max_file_bytes))
        except LoadError as e:
            result.errors.append(IngestError(e.file or str(name), e.message))
        except OSError as e:
            result.errors.append(IngestError(str(name), f"「{name}」保存失败：{e.strerror or e}"))
    if result.saved:
        result.report = pipeline.build(progress=progress, show_bar=show_bar)
    return result


def remove_report(pipeline, doc_id: str, *, progress: Progress | None = None,
                  show_bar: bool = False) -> BuildReport:
    """Delete a report from the corpus folder and re-index (nothing new is embedded)."""
    delete_report(Path(pipeline.config.corpus_dir), doc_id)
    return pipeline.build(progress=progress, show_bar=show_bar)


class IndexJob:
    """Build the index in a background thread and remember its progress, so a server can start
    answering pages (with a progress bar) while the first build runs."""

    def __init__(self, pipeline, show_bar: bool = True):
        self.pipeline = pipeline
        self.show_bar = show_bar
        self.done = 0
        self.total = 0
        self.what = "准备中"
        self.report: BuildReport | None = None
        self.error: str | None = None
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None

    def _progress(self, done: int, total: int, what: str) -> None:
        self.done, self.total, self.what = done, total, what

    def _run(self) -> None:
        try:
            self.what = "读取与切分语料"
            self.report = self.pipeline.build(progress=self._progress, show_bar=self.show_bar)
        except Exception as e:  # shown on the page and in the terminal
            self.error = f"建立索引失败：{e}"
        finally:
            self._finished.set()

    def start(self) -> "IndexJob":
        self._thread = threading.Thread(target=self._run, name="policy-rag-index", daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


def watch(job: IndexJob | None, report: Callable[[int, int, str], None], poll: float = 0.5) -> None:
    """Call report(done, total, what) while the job runs (for a page's progress bar)."""
    while job is not None and job.running:
        report(job.done, job.total, job.what)
        job.wait(poll)
