"""Chunk a cleaned report by 公文 structure.

Headings (第一部分, 一、, （一）, 一是, 1. / 1、, （1）, ①) are found at line starts and also inline,
right after a sentence end or a heading title, which is how reports pasted as one long paragraph
(seed 002) keep their structure. Nesting follows the order in which heading kinds first appear,
because reports nest them differently (一、 › 1、 › 一是 in one, 一、 › （一） › 一是 in another).

A chunk is one numbered item (or a run of short siblings), never crosses a top-level section,
is split at sentence ends when too long, and carries its section path and its part
(achievement / plan / problems).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .clean import Cleaned
from .types import Chunk, Document

CN_NUM = "一二三四五六七八九十"
MARKERS = re.compile(
    rf"(?P<part>第[{CN_NUM}]{{1,3}}部分)"
    rf"|(?P<cn>[{CN_NUM}]{{1,3}}、)"
    rf"|(?P<paren_cn>[（(][{CN_NUM}]{{1,3}}[）)])"
    rf"|(?P<shi>[{CN_NUM}]{{1,3}}是)"
    r"|(?P<num>\d{1,2}(?:[、．]|\.(?!\d)))"
    r"|(?P<paren_num>[（(]\d{1,2}[）)])"
    r"|(?P<circled>[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])"
)
# Kinds whose title may hold commas ("（三）突出企业创新主体，科技企业培育成效显著").
SECTION_KINDS = {"part", "cn", "paren_cn"}
SECTION_TITLE_STOP = "。！？；!?;\n"
ITEM_TITLE_STOP = "，,。；;：:！？!?\n"
TITLE_MAX = 30
BOUNDARY = "\n。！？；!?;"
PLAN_RE = re.compile(r"计划|打算|思路|安排|要点|下一步|展望|重点工作|工作目标|主要目标|明年|下半年")
PROBLEM_RE = re.compile(r"问题|不足|短板|困难|差距")
ACHIEVEMENT_RE = re.compile(r"总结|情况|成效|成绩|进展|主要工作|回顾|完成|上半年")
SECTION_KEYWORD = re.compile(r"(?:工作|H作)(?:总结|计划|思路|要点|打算|安排|情况|成效)|存在的?问题(?:和不足)?")
SENTENCE_SPLIT = re.compile(r"(?<=[。！？；!?;])")


@dataclass
class Heading:
    kind: str
    start: int  # cleaned offset of the marker
    title_end: int  # cleaned offset where the heading's title ends
    title: str  # marker + title, e.g. "（一）聚焦平台能级提升"


def _at_boundary(text: str, pos: int) -> bool:
    if pos == 0 or text[pos - 1] in BOUNDARY:
        return True
    # OCR often turns 。 into "o" ("全市第2o三是推动…").
    return text[pos - 1] == "o" and (pos < 2 or not text[pos - 2].isascii() or text[pos - 2].isdigit())


def _title_end(text: str, kind: str, marker_end: int) -> int:
    stops = SECTION_TITLE_STOP if kind in SECTION_KINDS else ITEM_TITLE_STOP
    limit = min(len(text), marker_end + 60)
    end = marker_end
    while end < limit and text[end] not in stops:
        end += 1
    # An inline heading ends where the next heading begins ("一、2023年工作情况（一）强化…").
    nxt = MARKERS.search(text, marker_end + 1, end)
    if nxt and kind in SECTION_KINDS:
        end = nxt.start()
    # "二、2024年工作计划2024年是落实…": a section title ends after its keyword.
    key = SECTION_KEYWORD.search(text, marker_end, end) if kind in SECTION_KINDS else None
    if key:
        end = key.end()
    if end - marker_end > TITLE_MAX:
        comma = text.find("，", marker_end, marker_end + TITLE_MAX)
        end = comma if comma > marker_end else marker_end + TITLE_MAX
    return end


def find_headings(text: str) -> list[Heading]:
    """Every heading in cleaned text, in order."""
    heads: list[Heading] = []
    last_title_end = -1
    for m in MARKERS.finditer(text):
        pos = m.start()
        if pos < last_title_end:
            continue
        kind = m.lastgroup
        # "（二）" is a heading even glued to an OCR-damaged sentence end ("增长25机(二)做大…").
        if not (_at_boundary(text, pos) or pos == last_title_end or kind == "paren_cn"):
            continue
        end = _title_end(text, kind, m.end())
        title = text[pos:end].strip()
        if end <= m.end() and kind not in SECTION_KINDS:
            continue  # a bare "1." with nothing after it is not an item
        heads.append(Heading(kind, pos, end, title))
        last_title_end = end
    return heads


def heading_kind(line: str) -> str | None:
    """Kind of heading that starts this line, or None (for table tests and tools)."""
    heads = find_headings(line)
    return heads[0].kind if heads and heads[0].start == 0 else None


def part_of(section: list[str], default: str) -> str:
    """achievement / plan / problems, read from the top two levels of the section path."""
    for title in section[:2]:
        if PROBLEM_RE.search(title):
            return "problems"
        if PLAN_RE.search(title):
            return "plan"
        if ACHIEVEMENT_RE.search(title):
            return "achievement"
    return default


@dataclass
class _Piece:
    section: list[str]
    start: int  # cleaned offsets
    end: int
    body: int  # length of text beyond the heading title


def _pieces(text: str, body_start: int) -> list[_Piece]:
    heads = [h for h in find_headings(text) if h.start >= body_start]
    pieces: list[_Piece] = []
    if not heads or heads[0].start > body_start:
        first = heads[0].start if heads else len(text)
        pieces.append(_Piece([], body_start, first, first - body_start))
    stack: list[tuple[str, str]] = []
    for i, h in enumerate(heads):
        kinds = [k for k, _ in stack]
        if h.kind == "part":
            stack = []
        elif h.kind in kinds:
            stack = stack[: kinds.index(h.kind)]
        stack.append((h.kind, h.title))
        end = heads[i + 1].start if i + 1 < len(heads) else len(text)
        body = len(text[h.title_end:end].strip(" \n。，,;；:："))
        pieces.append(_Piece([t for _, t in stack], h.start, end, body))
    return pieces


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Split [start, end) at sentence ends into ranges of at most max_chars (a longer sentence stands alone)."""
    if end - start <= max_chars:
        return [(start, end)]
    ranges, cur = [], start
    sent_start = start
    bounds = [start + m.start() for m in SENTENCE_SPLIT.finditer(text[start:end])] + [end]
    for b in bounds:
        if b <= sent_start:
            continue
        if b - cur > max_chars and sent_start > cur:
            ranges.append((cur, sent_start))
            cur = sent_start
        sent_start = b
    if cur < end:
        ranges.append((cur, end))
    # A single run-on sentence longer than max_chars: cut it at commas or hard.
    out = []
    for s, e in ranges:
        while e - s > max_chars * 2:
            cut = text.rfind("，", s + max_chars // 2, s + max_chars)
            cut = cut + 1 if cut > 0 else s + max_chars
            out.append((s, cut))
            s = cut
        out.append((s, e))
    return out


def chunk_document(doc: Document, cleaned: Cleaned, body_start: int = 0, *,
                   max_chars: int = 450, min_chars: int = 50) -> list[Chunk]:
    """Chunks of one report; `body_start` skips its title line (see meta.split_title)."""
    text = cleaned.text
    meta = doc.meta
    default_part = "plan" if meta.get("kind") == "plan" else "achievement"

    pieces = _drop_bare_parents(_pieces(text, body_start))
    pieces = [p for p in pieces if text[p.start:p.end].strip()]
    merged = _merge_short_siblings(pieces, text, min_chars, max_chars)

    chunks: list[Chunk] = []
    for p in merged:
        for s, e in _split_long(text, p.start, p.end, max_chars):
            s, e = _strip(text, s, e)
            if e <= s:
                continue
            start, end = cleaned.span(s, e)
            chunks.append(Chunk(
                id=f"{doc.id}#{len(chunks)}", doc=doc.id, title=doc.title, section=p.section,
                start=start, end=end, text=text[s:e], part=part_of(p.section, default_part),
                region=meta.get("region", ""), level=meta.get("level", ""), year=meta.get("year"),
            ))
    return chunks


def _drop_bare_parents(pieces: list[_Piece]) -> list[_Piece]:
    """Drop a heading with no text of its own when items follow under it (their section paths carry
    its title); a one-sentence item such as "（一）新增市级重点实验室2家。" is kept."""
    out = []
    for i, p in enumerate(pieces):
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        has_children = nxt is not None and len(nxt.section) > len(p.section) and nxt.section[: len(p.section)] == p.section
        if p.body > 0 or not p.section or not has_children:
            out.append(p)
    return out


def _merge_short_siblings(pieces: list[_Piece], text: str, min_chars: int, max_chars: int) -> list[_Piece]:
    """Join runs of short items under the same parent, so "（1）…（2）…" one-liners embed together."""
    out: list[_Piece] = []
    for p in pieces:
        prev = out[-1] if out else None
        if (prev and p.section and len(p.section) > 1
                and prev.section[: len(p.section) - 1] == p.section[:-1]
                and len(prev.section) in (len(p.section), len(p.section) - 1)
                and prev.end == p.start
                and (prev.end - prev.start) < min_chars * 2 and (p.end - p.start) < min_chars
                and (p.end - prev.start) <= max_chars):
            # The run is cited by its parent section: no single item title covers it.
            out[-1] = _Piece(p.section[:-1], prev.start, p.end, prev.body + p.body)
            continue
        out.append(p)
    return out


def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s] in " \n":
        s += 1
    while e > s and text[e - 1] in " \n":
        e -= 1
    return s, e
