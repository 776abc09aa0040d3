"""A zoo of good and bad input files for the load stage (and any stage that ingests a folder).

`make_zoo(dir)` writes everything into `dir` and returns {relative name: description}.
Nothing here needs extra packages: the text PDF is written by hand (a Type0 font with a
ToUnicode map, so the Chinese text layer extracts correctly without embedding a CJK font).
"""
from __future__ import annotations

import io
import os
import random
from pathlib import Path

# A real paragraph (anonymised seed report); every character is GBK-encodable.
REPORT = (
    "科技局2022年工作总结和2023年工作打算\n"
    "\n"
    "2022年，市科技局坚持以习近平新时代中国特色社会主义思想为指导，按照全市科技创新大会部署，"
    "实施创新驱动发展战略，加快建设高水平国家创新型城市，科技创新水平进一步提升。\n"
    "一、2022年工作情况\n"
    "（一）创新平台建设取得新突破。全年新增省级工程技术研究中心12家、市级重点实验室8家，"
    "“X省海洋科技创新中心”获批建设，高新技术企业达到1,024家、增长18.6%。\n"
    "（二）科技成果转化持续加快。技术合同成交额突破50亿元，同比增长23%；"
    "举办“科技成果直通车”活动6场，促成校企合作项目47项。\n"
    "二、2023年工作打算\n"
    "围绕“十四五”规划目标，着力推进高端资源集聚、推动科技成果转化、优化科技创新力量布局。\n"
)
# GB18030 adds characters GBK lacks (CJK Extension B), so its file carries one extra line.
REPORT_GB18030 = REPORT + "附：生僻字测试𠀀𠮷。\n"
SMALL = "滨海区2022年科技工作总结\n全年新增高新技术企业36家。\n"
INNER = "附件：2021年科技创新平台名单\n省级重点实验室3家。\n"

LONG_ASCII = "r" * 200 + ".txt"  # 204 bytes
LONG_CJK = "科" * 80 + ".txt"  # 244 bytes, under the 255-byte limit

# name -> text, for files that must load (name is relative, forward slashes)
GOOD = {
    "gbk.txt": REPORT,
    "gb18030.txt": REPORT_GB18030,
    "utf16le-bom.txt": REPORT,
    "utf16be-bom.txt": REPORT,
    "utf8-bom.txt": REPORT,
    "utf8.md": REPORT,
    "报告 1.txt": SMALL,
    "年度报告🚀.txt": SMALL,
    "-report.txt": SMALL,
    LONG_ASCII: SMALL,
    LONG_CJK: SMALL,
    "folder.txt/inner.txt": INNER,
}
DOCX_TEXT = "\n".join([
    "滨海区科技局2022年工作总结",
    "一、2022年工作情况",
    "全年新增高新技术企业36家，技术合同成交额12亿元。",
    "指标\t数值",
    "高新技术企业\t36家",
])
PDF_LINES = ["滨海区科技局2022年工作总结", "全年新增高新技术企业36家。", "Tech report 2022"]

# name -> key phrase its Chinese error message must contain
BAD = {
    "empty.txt": "为空文件",
    "blank.txt": "为空文件",
    "photo.txt": "无法识别文件编码或不是文本文件",
    "random.txt": "无法识别文件编码或不是文本文件",
    "nul.txt": "无法识别文件编码或不是文本文件",
    "truncated.pdf": "不完整",
    "fake.pdf": "不是有效的 PDF 文件",
    "encrypted.pdf": "已加密",
    "scan.pdf": "没有可提取的文字层（可能是扫描件），请先进行 OCR 识别后再上传",
    "corrupt.docx": "不是有效的 .docx 文件",
    "old.doc": "是旧版 Word（.doc）格式，请用 Word 另存为 .docx 后再上传",
    "notes.rtf": "不支持",
    "huge.txt": "文件过大（50 MB，上限 20 MB）",
    "loop.txt": "是无效的符号链接",
    "a.txt": "是无效的符号链接",
    "b.txt": "是无效的符号链接",
}


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds `lines` (Unicode via Identity-H + ToUnicode)."""
    chars = sorted({ord(c) for line in lines for c in line})
    cmap = "\n".join([
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        "1 begincodespacerange <0000> <FFFF> endcodespacerange",
        f"{len(chars)} beginbfchar",
        *(f"<{c:04X}> <{c:04X}>" for c in chars),
        "endbfchar endcmap CMapName currentdict /CMap defineresource pop end end",
    ]).encode()
    ops = ["BT /F1 14 Tf 16 TL 60 780 Td"]
    ops += [f"<{''.join(f'{ord(c):04X}' for c in line)}> Tj T*" for line in lines]
    content = "\n".join(ops + ["ET"]).encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/FontDescriptor 8 0 R /DW 1000 >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
        b"<< /Type /FontDescriptor /FontName /SimSun /Flags 6 /FontBBox [0 -141 1000 859] "
        b"/ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 700 /StemV 80 >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _pdf_bytes(writer) -> bytes:
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("滨海区科技局2022年工作总结")
    d.add_heading("一、2022年工作情况", level=1)
    d.add_paragraph("全年新增高新技术企业36家，技术合同成交额12亿元。")
    table = d.add_table(rows=2, cols=2)
    for r, row in enumerate([("指标", "数值"), ("高新技术企业", "36家")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def make_zoo(dir: Path) -> dict[str, str]:
    """Write the zoo into `dir`; return {relative name: short description}."""
    from pypdf import PdfReader, PdfWriter

    dir = Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(20220101)  # deterministic junk
    desc: dict[str, str] = {}

    def put(name: str, data: bytes, what: str) -> None:
        p = dir / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        desc[name] = what

    # good: the same report in five encodings, plus odd names
    put("gbk.txt", REPORT.encode("gbk"), "GBK 编码的报告")
    put("gb18030.txt", REPORT_GB18030.encode("gb18030"), "GB18030 编码，含 GBK 之外的字符 𠀀𠮷")
    put("utf16le-bom.txt", REPORT.encode("utf-16"), "UTF-16 LE 带 BOM")
    put("utf16be-bom.txt", b"\xfe\xff" + REPORT.encode("utf-16-be"), "UTF-16 BE 带 BOM")
    put("utf8-bom.txt", REPORT.encode("utf-8-sig"), "UTF-8 带 BOM")
    put("utf8.md", REPORT.encode("utf-8"), "UTF-8 Markdown")
    for name in ("报告 1.txt", "年度报告🚀.txt", "-report.txt", LONG_ASCII, LONG_CJK):
        put(name, SMALL.encode("utf-8"), "文件名特殊的小报告")
    put("folder.txt/inner.txt", INNER.encode("utf-8"), "名为 folder.txt 的文件夹里的报告")
    put("report.docx", _docx_bytes(), "有效的 .docx：标题、一级标题、段落、2x2 表格")
    pdf = text_pdf(PDF_LINES)
    put("report.pdf", pdf, "有效的文字版 PDF（中文文字层）")

    # bad
    put("empty.txt", b"", "空文件")
    put("blank.txt", b" \r\n\t\n\xe3\x80\x80\n", "只有空白字符（含全角空格）")
    put("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rnd.randbytes(4000), "PNG 图片改名为 .txt")
    put("random.txt", rnd.randbytes(4096), "随机字节")
    put("nul.txt", "正文".encode() + b"\x00" * 64 + "结尾".encode(), "含 NUL 字节的文本")
    put("truncated.pdf", pdf[: len(pdf) // 2], "截断的 PDF")
    put("fake.pdf", b"<html><body>404 Not Found</body></html>\n", "网页存成 .pdf")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    put("encrypted.pdf", _pdf_bytes(writer), "设有打开密码的 PDF")
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    put("scan.pdf", _pdf_bytes(writer), "没有文字层的 PDF（扫描件）")
    put("corrupt.docx", b"PK\x03\x04" + rnd.randbytes(2000), "损坏的 .docx（zip 垃圾）")
    put("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rnd.randbytes(2000), "旧版 Word .doc（OLE）")
    put("notes.rtf", b"{\\rtf1\\ansi hello}", "不支持的格式 .rtf")
    put("huge.txt", "科技创新。\n".encode() * (50 * 2**20 // 16), "50 MB 文本（应按大小拒绝，不读取）")

    # symlink loops: a self-loop and a two-link cycle
    os.symlink("loop.txt", dir / "loop.txt")
    os.symlink("b.txt", dir / "a.txt")
    os.symlink("a.txt", dir / "b.txt")
    desc.update({"loop.txt": "符号链接自环 loop.txt -> loop.txt",
                 "a.txt": "符号链接循环 a.txt -> b.txt", "b.txt": "符号链接循环 b.txt -> a.txt"})
    return desc
