"""Load stage: turn every file under a corpus folder into a `Document`, or a Chinese error.

Text files keep their decoded content byte-for-byte (minus a BOM) because later stages
store character offsets into `Document.text`; nothing is normalised here.
"""
from __future__ import annotations

import errno
import io
import os
import stat
import unicodedata
import zipfile
from pathlib import Path

from charset_normalizer import from_bytes

from rag.types import Document, IngestError

SUPPORTED = (".txt", ".md", ".docx", ".pdf")
MAX_BYTES = 20 * 2**20
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office (.doc) and encrypted Office files
_BOMS = (  # (bom, codec); codec names follow charset-normalizer's style
    (b"\xef\xbb\xbf", "utf_8_sig"),
    (b"\xff\xfe", "utf_16_le"),
    (b"\xfe\xff", "utf_16_be"),
)
_OK_CONTROLS = set("\t\n\r\f\v")
_NOT_TEXT = "「{}」无法识别文件编码或不是文本文件，请另存为 UTF-8 编码的 .txt 后再上传"


class LoadError(Exception):
    """A file that cannot become a Document; `message` is Chinese and names the file."""

    def __init__(self, file: str, message: str):
        super().__init__(message)
        self.file = file
        self.message = message


def _size(n: int) -> str:
    """Human size for messages: "50 MB", "7.2 KB"."""
    value, unit = (n / 2**20, "MB") if n >= 2**20 else (n / 2**10, "KB")
    return f"{value:.1f}".removesuffix(".0") + " " + unit


def _looks_binary(text: str) -> bool:
    """NUL or many control/unassigned characters mean the bytes were not text at all."""
    if "\x00" in text:
        return True
    sample = text[:100_000]
    odd = sum(1 for ch in sample if ch not in _OK_CONTROLS
              and unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"))
    return odd > max(2, len(sample) // 20)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding name). BOM first, then strict UTF-8, then charset-normalizer."""
    text = encoding = None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text, encoding = data[len(bom):].decode(codec.removesuffix("_sig")), codec
            except UnicodeDecodeError:
                raise LoadError(name, _NOT_TEXT.format(name)) from None
            break
    if text is None and b"\x00" not in data:  # NUL-free: UTF-8 fast path (UTF-16 has NULs)
        try:
            text, encoding = data.decode("utf-8"), "utf_8"
        except UnicodeDecodeError:
            pass
    if text is None:
        best = from_bytes(data).best()
        if best is None:
            raise LoadError(name, _NOT_TEXT.format(name))
        text, encoding = str(best), best.encoding
        if text.startswith("\ufeff"):  # e.g. a GB18030 BOM: not part of the document
            text = text[1:]
    if _looks_binary(text):
        raise LoadError(name, _NOT_TEXT.format(name))
    return text, encoding


def decode_bytes(data: bytes, name: str) -> str:
    """Decode a text file's bytes; raise LoadError (naming `name`) on binary junk."""
    return _decode(data, name)[0]


def _docx_text(data: bytes, name: str, max_bytes: int) -> str:
    """Body paragraphs and tables in reading order; cells of a row joined by tabs."""
    import docx
    from docx.table import Table

    bad = f"「{name}」不是有效的 .docx 文件（文件已损坏或格式不符），请用 Word 打开后重新另存为 .docx 再上传"
    if data.startswith(_OLE_MAGIC):
        raise LoadError(name, f"「{name}」不是有效的 .docx 文件：可能设有密码，或实际是旧版 Word（.doc）格式，"
                              "请解除密码或用 Word 另存为 .docx 后再上传")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:  # refuse zip bombs before python-docx inflates them
            if sum(i.file_size for i in z.infolist()) > 10 * max_bytes:
                raise LoadError(name, f"「{name}」解压后内容过大，疑似异常文件，已跳过")
        document = docx.Document(io.BytesIO(data))
        lines = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    cells, seen = [], set()
                    for cell in row.cells:  # a merged cell repeats; keep it once
                        if id(cell._tc) not in seen:
                            seen.add(id(cell._tc))
                            cells.append(cell.text)
                    lines.append("\t".join(cells))
            else:
                lines.append(block.text)
    except LoadError:
        raise
    except Exception:
        raise LoadError(name, bad) from None
    return "\n".join(lines)


def _pdf_text(data: bytes, name: str) -> str:
    """The text layer of each page joined by newlines (pypdf)."""
    from pypdf import PdfReader

    if b"%PDF-" not in data[:1024]:
        raise LoadError(name, f"「{name}」不是有效的 PDF 文件（文件头不符），请确认文件后再上传")
    if b"%%EOF" not in data[-2048:]:  # pypdf may silently recover a truncated file
        raise LoadError(name, f"「{name}」PDF 文件不完整（可能下载或上传中断），请重新获取原文件后再上传")
    locked = f"「{name}」已加密（设有打开密码），无法读取，请先解除密码后再上传"
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # owner-password-only files open with an empty password
            except Exception:  # e.g. AES without the optional crypto package
                opened = 0
            if not opened:
                raise LoadError(name, locked)
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except Exception:
        raise LoadError(name, f"「{name}」不是有效的 PDF 文件（文件可能已损坏），请重新导出后再上传") from None
    text = "\n".join(pages)
    if not text.strip():
        raise LoadError(name, f"「{name}」没有可提取的文字层（可能是扫描件），请先进行 OCR 识别后再上传")
    return text


def _relative(path: Path, root: Path) -> str:
    rel = path.relative_to(root).as_posix()
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name, e.g. a GBK zip unpacked on Linux
        shown = os.fsencode(rel).decode("utf-8", "replace")
        raise LoadError(shown, f"「{shown}」的文件名不是有效的 UTF-8 编码，请重命名后再上传") from None
    return rel


def load_file(path: Path, root: Path, max_bytes: int = MAX_BYTES) -> Document:
    """Load one file; raise LoadError with a Chinese message naming it (relative to root)."""
    path, root = Path(path), Path(root)
    name = _relative(path, root)
    try:
        st = path.stat()  # follows symlinks
    except OSError as e:
        if path.is_symlink():
            raise LoadError(name, f"「{name}」是无效的符号链接（目标不存在或形成循环），已跳过") from None
        if e.errno in (errno.EACCES, errno.EPERM):
            raise LoadError(name, f"「{name}」没有读取权限，已跳过") from None
        raise LoadError(name, f"「{name}」读取失败：{e.strerror or e}") from None
    if path.is_symlink():
        if stat.S_ISDIR(st.st_mode):
            raise LoadError(name, f"「{name}」是指向文件夹的符号链接，为安全起见未跟随，已跳过")
        if not path.resolve().is_relative_to(root.resolve()):
            raise LoadError(name, f"「{name}」是指向语料目录之外的符号链接，为安全起见已跳过")
    if stat.S_ISDIR(st.st_mode):  # listed by list_files only when it could not be opened
        raise LoadError(name, f"「{name}」是无法读取的文件夹（没有权限），已跳过")
    ext = path.suffix.lower()
    if ext == ".doc":
        raise LoadError(name, f"「{name}」是旧版 Word（.doc）格式，请用 Word 另存为 .docx 后再上传")
    if ext not in SUPPORTED:
        shown = ext or "无扩展名"
        raise LoadError(name, f"「{name}」的格式（{shown}）不支持，仅支持 {'、'.join(SUPPORTED)} 文件")
    if not stat.S_ISREG(st.st_mode):  # FIFOs and devices could block or never end
        raise LoadError(name, f"「{name}」不是普通文件，已跳过")
    if st.st_size > max_bytes:
        raise LoadError(name, f"「{name}」文件过大（{_size(st.st_size)}，上限 {_size(max_bytes)}），"
                              "请拆分后再上传")
    if st.st_size == 0:
        raise LoadError(name, f"「{name}」为空文件，已跳过")
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except PermissionError:
        raise LoadError(name, f"「{name}」没有读取权限，已跳过") from None
    except OSError as e:
        raise LoadError(name, f"「{name}」读取失败：{e.strerror or e}") from None
    if len(data) > max_bytes:  # grew after stat
        raise LoadError(name, f"「{name}」文件过大（上限 {_size(max_bytes)}），请拆分后再上传")

    encoding = None
    if ext == ".docx":
        text = _docx_text(data, name, max_bytes)
    elif ext == ".pdf":
        text = _pdf_text(data, name)
    else:
        text, encoding = _decode(data, name)
    if not text.strip():
        raise LoadError(name, f"「{name}」为空文件（没有文字内容），已跳过")
    title = next((line.strip() for line in text.splitlines() if line.strip()), path.stem)
    return Document(id=name, title=title, text=text,
                    meta={"path": name, "bytes": st.st_size, "encoding": encoding})


def list_files(root: Path) -> list[Path]:
    """Every non-hidden entry a caller should try to load, sorted.

    Symlinked folders are listed (not followed) so they can be reported; that also makes
    symlink loops harmless. Folders that cannot be opened are listed for the same reason.
    """
    root = Path(root)
    if not root.is_dir():
        raise LoadError(str(root), f"语料目录「{root}」不存在或不是文件夹")
    found: list[Path] = []

    def unreadable(err: OSError) -> None:
        if Path(err.filename or root) == root:
            raise LoadError(str(root), f"语料目录「{root}」无法读取：{err.strerror or err}")
        found.append(Path(err.filename))

    for top, dirs, files in os.walk(root, onerror=unreadable, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(top, d) for d in dirs if os.path.islink(os.path.join(top, d))]
        found += [Path(top, f) for f in files if not f.startswith(".")]
    return sorted(found)


def load_corpus(root: Path, max_bytes: int = MAX_BYTES) -> tuple[list[Document], list[IngestError]]:
    """Load every file under root; one bad file becomes one IngestError, never an exception."""
    root = Path(root)
    docs: list[Document] = []
    errors: list[IngestError] = []
    for path in list_files(root):
        try:
            docs.append(load_file(path, root, max_bytes))
        except LoadError as e:
            errors.append(IngestError(file=e.file, error=e.message))
        except Exception as e:  # a bug or an odd library failure must not stop the whole corpus
            name = os.fsencode(path.relative_to(root).as_posix()).decode("utf-8", "replace")
            errors.append(IngestError(file=name, error=f"「{name}」读取失败：{e}"))
    return docs, errors
