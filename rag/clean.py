"""Clean a decoded report without losing positions.

Web-page residue (upload lines, page markers, site footers, the "1、 2、" page-fragment numbers
that cut a sentence mid-word) is dropped and whitespace is normalised, but every character of the
cleaned text remembers where it came from in the original, so chunks and citations are always
`[start, end)` ranges of the decoded original text. OCR errors are kept as they are.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Lines that are nothing but web-page residue. Matched against a stripped line of at most
# RESIDUE_MAX_LEN characters, so a real paragraph that mentions, say, 版权 is never dropped.
RESIDUE_MAX_LEN = 160
RESIDUE_PATTERNS = [re.compile(p) for p in (
    r"(上传人|文档上传者|上传时间|上传日期|文档编号)\s*[:：]",
    r"^第\s*\d+\s*页\s*/\s*共\s*\d+\s*页$",
    r"_第\s*\d+\s*页$",
    r"(点击)?(查看更多|继续阅读|查看全文|加载更多)(内容)?\s*(>>|》)?$",
    r"剩余\s*\d+\s*页未读",
    r"^资源描述$",
    r"返回\s+下载\s+相关\s+举报|返回首页\s+下载文档|^文档简介$|》为用户上传",
    r"立即下载|加入收藏|举报侵权|收藏\s*\|\s*分享",
    r"^首页\s*>|^当前位置\s*[:：]",
    r"版权所有|ICP备|公网安备|经营许可证|^电脑版",
    r"^展开(阅读)?全文|^(继续)?阅读全文|下载文档到电脑|积分\s*下载$|^相关资源$|^相关搜索$|^最新文档$|正为您匹配相似的精品文档",
    r"^本文档由用户上传|由会员分享.*可在线阅读|请在.{1,12}上搜索",
    r"^[^\s/\\]{1,60}\.(docx?|pdf|txt|wps)$",  # a bare file name line, e.g. "区委务虚会发言材料.docx"
    r"^(热门搜索|热门标签|相关标签)\s*[:：]?|^(猜你喜欢|相关文档推荐|本文档相关推荐|近期上传)",
    r"^关于我们\s*\||^(所在位置|备案号)\s*[:：]|^手机版\s*\|",
)]
# After a footer heading such as "相关文档推荐", the short lines that follow are recommendation
# links; a long line means the body (a later page fragment) resumes.
FOOTER_START = re.compile(r"^(展开(阅读)?全文|(继续)?阅读全文|下载文档到电脑|相关资源|相关搜索|相关文档推荐|猜你喜欢|本文档相关推荐|近期上传|最新文档|相关标签)")
FOOTER_LINE_MAX = 60
# Markers that show the document was scraped from a document-sharing site; only then are
# line-initial "1、 2、 …" read as page-fragment numbers rather than headings.
SCRAPED_MARKERS = re.compile(r"第\s*\d+\s*页\s*/\s*共\s*\d+\s*页|上传(人|者|时间|日期)|资源描述|文档编号")
FRAGMENT_START = re.compile(r"^(\d{1,3})、")
SENTENCE_END = "。！？；!?;”」』"
WHITESPACE = " \t\u3000\xa0\u2002\u2003\u2009\u200b\ufeff"
LINE_BREAKS = re.compile(r"\r\n|\r|\n")


@dataclass
class Cleaned:
    """Cleaned text plus, for each of its characters, the index of its source in the original."""
    text: str
    offsets: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original `[start, end)` covering cleaned characters `[start, end)`."""
        if end <= start:
            pos = self.offsets[start] if start < len(self.offsets) else (self.offsets[-1] + 1 if self.offsets else 0)
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1


def is_residue(line: str) -> bool:
    """True for a stripped line that is only web-page residue."""
    if not line or len(line) > RESIDUE_MAX_LEN:
        return False
    return any(p.search(line) for p in RESIDUE_PATTERNS)


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's content, line breaks excluded."""
    spans, pos = [], 0
    for m in LINE_BREAKS.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


def clean(text: str) -> Cleaned:
    """Drop residue lines and page-fragment numbers, normalise whitespace, keep an offset map.

    Output: one paragraph per line, no blank lines, no leading/trailing blanks, runs of inner
    whitespace folded to one space. A page fragment ("2、破。推荐…") is glued back onto the
    sentence it cut, so the reader sees "零的突破。推荐…".
    """
    scraped = bool(SCRAPED_MARKERS.search(text[:5000]))
    out: list[str] = []
    offsets: list[int] = []
    next_fragment = 1
    in_footer = False
    for ls, le in _lines(text):
        line = text[ls:le]
        stripped = line.strip(WHITESPACE)
        if not stripped:
            continue
        if FOOTER_START.match(stripped):
            in_footer = True
        if in_footer and len(stripped) <= FOOTER_LINE_MAX:
            continue
        in_footer = False
        if is_residue(stripped):
            continue
        lead = len(line) - len(line.lstrip(WHITESPACE))
        begin = ls + lead
        glue = False
        if scraped:
            m = FRAGMENT_START.match(stripped)
            if m and int(m.group(1)) == next_fragment:
                next_fragment += 1
                begin += m.end()
                # A fragment that continues a cut sentence joins the previous line.
                glue = bool(out) and int(m.group(1)) > 1 and out[-1] not in SENTENCE_END
        if out and not glue:
            out.append("\n")
            offsets.append(begin - 1 if begin > 0 else 0)
        _append_folded(text, begin, le, out, offsets)
    return Cleaned("".join(out), offsets)


def _append_folded(text: str, start: int, end: int, out: list[str], offsets: list[int]) -> None:
    """Append text[start:end] with whitespace runs folded to one space and the tail stripped."""
    pending_space = -1
    for i in range(start, end):
        ch = text[i]
        if ch in WHITESPACE:
            if pending_space < 0:
                pending_space = i
            continue
        if pending_space >= 0 and out and out[-1] != "\n":
            out.append(" ")
            offsets.append(pending_space)
        pending_space = -1
        out.append(ch)
        offsets.append(i)

