"""Citations for people: copy-ready citation text, numbered citation lists, HTML of a cited
passage in its surrounding text with the span highlighted, and DOCX / Markdown exports of an
answer with its sources.

A citation reads 〔滨海区科技局2022年工作总结和2023年工作计划，一、（三），第1235–1302字〕:
the report title, the section path shortened to its heading markers, and the span as
1-based inclusive character positions in the decoded original file (a `Citation`'s
half-open [start, end) becomes 第{start+1}–{end}字).
"""
from __future__ import annotations

import html
import re
import time
from pathlib import Path
from typing import Iterable

from .types import Answer, Citation, Hit

STATUS = {"approved": "已获批", "applied": "已申报、待批", "planned": "计划争创"}
LEVEL = {"national": "国家级", "provincial": "省级", "city": "市级", "district": "区县级", "county": "县级"}
MARKER = re.compile(r"\[(\d{1,3})\]")
REFUSAL = "资料中未找到"
SOURCES_LINE = re.compile(r"^\s*(?:来源|出处)[：:]\s*\[\d+\]")

# Heading markers as the chunker knows them (rag.chunk.MARKERS), anchored at a title's start.
_CN = "一二三四五六七八九十"
_HEAD = re.compile(
    rf"^(第[{_CN}]{{1,3}}部分|[{_CN}]{{1,3}}、|[（(][{_CN}]{{1,3}}[）)]|[{_CN}]{{1,3}}是"
    r"|\d{1,2}(?:[、．]|\.(?!\d))|[（(]\d{1,2}[）)]|[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])")


# --- citation text -------------------------------------------------------------------------

def section_markers(section: Iterable[str]) -> str:
    """["一、2022年工作总结", "（三）突出企业主体"] → "一、（三）"; a lone "一、" → "一".

    A heading without a marker keeps a short form of its title.
    """
    parts = []
    for title in section:
        title = (title or "").strip()
        if not title:
            continue
        m = _HEAD.match(title)
        parts.append(m.group(1) if m else (title[:12] + ("…" if len(title) > 12 else "")))
    text = "".join(parts)
    return text.rstrip("、．.") if parts and _HEAD.match(parts[-1] or "") else text


def span_text(start: int, end: int) -> str:
    """Half-open [start, end) → "第{start+1}–{end}字" (1-based, inclusive)."""
    return f"第{start + 1}–{max(end, start + 1)}字"


def citation_text(c: Citation) -> str:
    """〔标题，一、（三），第1235–1302字〕 (the section part is left out when the span has none)."""
    pieces = [c.title or c.doc]
    markers = section_markers(c.section)
    if markers:
        pieces.append(markers)
    pieces.append(span_text(c.start, c.end))
    return "〔" + "，".join(pieces) + "〕"


def section_path(section: Iterable[str]) -> str:
    """The full section path for display: "一、2022年工作总结 › （三）突出企业主体"."""
    return " › ".join(s for s in section if s) or "（开篇）"


def hit_citation(hit: Hit) -> Citation:
    c = hit.chunk
    return Citation(c.doc, c.title, list(c.section), c.start, c.end, c.text)


def _key(c: Citation) -> tuple:
    return (c.doc, c.start, c.end)


def numbered_citations(answer: Answer) -> list[Citation]:
    """Citations in reading order (claims, then list items), each once: index i is marker [i+1]."""
    seen, out = set(), []
    for c in [c for cl in answer.claims for c in cl.citations] + [c for it in answer.items for c in it.citations]:
        if _key(c) not in seen:
            seen.add(_key(c))
            out.append(c)
    return out


def markers_for(cites: Iterable[Citation], numbered: list[Citation]) -> str:
    """"[1][3]" for these citations, numbered as in `numbered`."""
    index = {_key(c): n for n, c in enumerate(numbered, start=1)}
    nums = sorted({index[_key(c)] for c in cites if _key(c) in index})
    return "".join(f"[{n}]" for n in nums)


def answer_body(answer: Answer, numbered: list[Citation] | None = None) -> str:
    """The answer text with inline markers [1][2].

    When the text already carries markers they are kept (they number the citations in reading
    order); otherwise each claim is followed by the markers of its citations.
    """
    numbered = numbered_citations(answer) if numbered is None else numbered
    text = answer.text or ""
    if numbered:  # a "来源：[1]《…》…" line repeats what the numbered citation list shows in full
        text = "\n".join(line for line in text.split("\n") if not SOURCES_LINE.match(line))
    if answer.refused or MARKER.search(text) or not answer.claims:
        return text
    if all(cl.text and cl.text in text for cl in answer.claims):
        out, pos = [], 0
        for cl in answer.claims:  # put each claim's markers right after the claim in the text
            i = text.find(cl.text, pos)
            if i < 0:
                continue
            end = i + len(cl.text)
            out.append(text[pos:end] + markers_for(cl.citations, numbered))
            pos = end
        return "".join(out) + text[pos:]
    lines = [text] if text.strip() else []
    lines += [f"{cl.text}{markers_for(cl.citations, numbered)}" for cl in answer.claims]
    return "\n".join(lines)


def citation_list(answer: Answer) -> list[str]:
    """"[n] 〔…〕" for every numbered citation, then the related passages of a refusal."""
    cites = numbered_citations(answer)
    rows = [f"[{n}] {citation_text(c)}" for n, c in enumerate(cites, start=1)]
    if not cites:
        rows += [citation_text(hit_citation(h)) for h in answer.related]
    return rows


def item_rows(answer: Answer, numbered: list[Citation] | None = None) -> list[list]:
    """Rows for a list answer: 地区, 名称, 状态, 年份, 出处 (markers plus the first citation)."""
    numbered = numbered_citations(answer) if numbered is None else numbered
    rows = []
    for it in answer.items:
        source = markers_for(it.citations, numbered)
        if it.citations:
            source = f"{source} {citation_text(it.citations[0])}".strip()
        status = STATUS.get(it.status, it.status or "")
        level = LEVEL.get(it.level, it.level or "")
        name = it.name if not level or level in it.name else f"{it.name}（{level}）"
        rows.append([it.region, name, status, it.year if it.year else "", source])
    return rows


# --- HTML ----------------------------------------------------------------------------------

def _esc(text: str) -> str:
    """HTML-escaped text; line breaks kept, runs of blank lines shown as one break."""
    text = re.sub(r"\n[ \t\u3000]*(?:\n[ \t\u3000]*)+", "\n", text or "")
    return html.escape(text, quote=True).replace("\n", "<br>")


def context_bounds(text: str, start: int, end: int, context: int = 160) -> tuple[int, int]:
    """Widen [start, end) by up to `context` characters each side, to whole lines where a line
    break falls inside the window (so the neighbouring lines are shown complete)."""
    lo = max(0, start - context)
    if lo > 0:
        nl = text.find("\n", lo, start)
        if nl >= 0:
            lo = nl + 1
    hi = min(len(text), end + context)
    if hi < len(text):
        nl = text.rfind("\n", end, hi)
        if nl >= 0:
            hi = nl
    return lo, hi


def passage_html(text: str, start: int, end: int, context: int = 160) -> str:
    """The cited span in its surrounding text, HTML-escaped, the span in <mark>."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    lo, hi = context_bounds(text, start, end, context)
    before = ("…" if lo > 0 else "") + text[lo:start]
    after = text[end:hi] + ("…" if hi < len(text) else "")
    return (f'<div class="passage">{_esc(before)}<mark>{_esc(text[start:end])}</mark>{_esc(after)}</div>')


def _passage(c: Citation, docs: dict | None, context: int) -> str:
    doc = (docs or {}).get(c.doc)
    if doc is not None and c.end <= len(doc.text) and c.start < c.end:
        return passage_html(doc.text, c.start, c.end, context)
    return f'<div class="passage"><mark>{_esc(c.quote)}</mark></div>'  # report gone from the index


def citation_block(n: int | None, c: Citation, docs: dict | None = None, *, open_: bool = False,
                   context: int = 160) -> str:
    """One citation as <details>: summary = [n] title · section path · span; body = passage."""
    label = f"[{n}] " if n is not None else ""
    summary = (f'<span class="cite-n">{label}</span><b>{_esc(c.title or c.doc)}</b>'
               f'<span class="cite-meta"> · {_esc(section_path(c.section))} · {span_text(c.start, c.end)}</span>')
    return (f'<details class="citation"{" open" if open_ else ""} data-doc="{html.escape(c.doc)}">'
            f"<summary>{summary}</summary>{_passage(c, docs, context)}"
            f'<div class="cite-text">{_esc(citation_text(c))}</div></details>')


def answer_html(answer: Answer, docs: dict | None = None, *, with_citations: bool = True) -> str:
    """The answer (or refusal with 相关内容) and, unless told otherwise, its numbered cited passages."""
    parts = []
    if answer.refused:
        text = answer.text or f"{REFUSAL}与该问题直接相关的内容。"
        parts.append(f'<div class="refusal"><b>未能作答</b><p>{_esc(text)}</p></div>')
        if answer.related:
            parts.append('<h4 class="cites-head">相关内容（供参考，并非答案）</h4>')
            parts += [citation_block(None, hit_citation(h), docs) for h in answer.related]
    else:
        body = _esc(answer_body(answer))
        body = MARKER.sub(r'<span class="marker">[\1]</span>', body)
        parts.append(f'<div class="answer">{body}</div>')
    for note in answer.notes:
        parts.append(f'<div class="note">注：{_esc(note)}</div>')
    if with_citations:
        parts.append(citations_html(answer, docs))
    return "\n".join(p for p in parts if p)


def citations_html(answer: Answer, docs: dict | None = None) -> str:
    """The numbered cited passages of an answer, each openable, the cited span highlighted."""
    cites = numbered_citations(answer)
    if not cites:
        return ""
    blocks = [citation_block(n, c, docs) for n, c in enumerate(cites, start=1)]
    return f'<h4 class="cites-head">出处（共 {len(cites)} 条，点击展开原文）</h4>' + "\n".join(blocks)


def hits_html(hits: list[Hit], docs: dict | None = None) -> str:
    """Search results as numbered, openable passages with their scores."""
    if not hits:
        return '<div class="refusal">没有找到相关内容。</div>'
    return "\n".join(citation_block(n, hit_citation(h), docs, open_=n == 1)
                     for n, h in enumerate(hits, start=1))


def _get(obj, name, default=None):
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def diff_ops_html(ops) -> str:
    """HTML of (op, text) diff pieces: shared text plain, <del> only in the draft, <ins> only in the report."""
    out = []
    for op, text in ops:
        t = _esc(text)
        out.append(t if op == "equal" else f"<del>{t}</del>" if op == "delete" else f"<ins>{t}</ins>")
    return "".join(out)


def similar_html(results, diff=None) -> str:
    """Per draft sentence its matches with similarity and the highlighted difference.

    `results` are SentenceMatches-like objects or dicts (sentence, matches, note); a match's
    `diff` is a list of (op, text) pieces (rag.similar.char_diff) or ready HTML; `diff(a, b)`
    renders one when a match carries none.
    """
    parts = []
    for n, r in enumerate(results or [], start=1):
        sentence = _get(r, "sentence", "")
        matches = _get(r, "matches", []) or []
        note = _get(r, "note", "") or ""
        parts.append(f'<div class="sim-sentence"><div class="sim-head">第{n}句：{_esc(sentence)}</div>')
        if not matches:
            parts.append(f'<div class="note">{_esc(note or "未找到相似表述")}</div>')
        for m in matches:
            c = Citation(_get(m, "doc", ""), _get(m, "title", ""), list(_get(m, "section", []) or []),
                         int(_get(m, "start", 0)), int(_get(m, "end", 0)), _get(m, "text", ""))
            score = float(_get(m, "score", 0.0) or 0.0)
            ops = _get(m, "diff", None)
            if isinstance(ops, str):
                shown = ops
            elif ops:
                shown = diff_ops_html(ops)
            elif diff is not None:
                rendered = diff(sentence, c.quote)
                shown = rendered if isinstance(rendered, str) else diff_ops_html(rendered)
            else:
                shown = _esc(c.quote)
            region, year = _get(m, "region", "") or "", _get(m, "year", None)
            where = " ".join(x for x in (region, f"{year}年" if year else "") if x)
            also = _get(m, "also", []) or []
            also_note = f'<span class="cite-meta">（另见 {len(also)} 处）</span>' if also else ""
            parts.append(
                f'<div class="sim-match"><span class="score">相似度 {score:.2f}</span> '
                f'<span class="cite-meta">{_esc(where)}</span>{also_note}<div class="diff">{shown}</div>'
                f'<div class="cite-text">{_esc(citation_text(c))}</div></div>')
        parts.append("</div>")
    if not parts:
        return '<div class="note">请输入要比对的文稿。</div>'
    legend = ('<div class="note">差异标示：<del>删除线</del>为文稿独有的文字，'
              '<ins>底色</ins>为原报告中的表述，其余为相同文字。</div>')
    return legend + "\n".join(parts)


# --- exports -------------------------------------------------------------------------------

def _md_cell(value) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")


def _md_quote(text: str) -> str:
    return "\n".join("> " + line for line in (text or "").strip().splitlines() if line.strip())


def answer_markdown(answer: Answer, *, generated: str | None = None) -> str:
    """The answer with its numbered sources (citation text + quoted passage) as Markdown."""
    cites = numbered_citations(answer)
    out = ["# 问答简报", "", f"**问题**：{answer.question}", "", "## 回答", ""]
    if answer.refused:
        out += [answer.text or f"{REFUSAL}与该问题直接相关的内容。", ""]
    else:
        out += [answer_body(answer, cites), ""]
    rows = item_rows(answer, cites)
    if rows:
        out += ["| 地区 | 名称 | 状态 | 年份 | 出处 |", "| --- | --- | --- | --- | --- |"]
        out += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
        out.append("")
    for note in answer.notes:
        out += [f"注：{note}", ""]
    if cites:
        out += ["## 出处", ""]
        for n, c in enumerate(cites, start=1):
            out += [f"[{n}] {citation_text(c)}", "", _md_quote(c.quote), ""]
    elif answer.related:
        out += ["## 相关内容", ""]
        for h in answer.related:
            c = hit_citation(h)
            out += [f"- {citation_text(c)}", "", _md_quote(c.quote), ""]
    out.append(f"*生成时间：{generated or time.strftime('%Y-%m-%d %H:%M')}*")
    return "\n".join(out).rstrip() + "\n"


def write_markdown(answer: Answer, path: Path) -> Path:
    path = Path(path)
    path.write_text(answer_markdown(answer), encoding="utf-8")
    return path


def write_docx(answer: Answer, path: Path) -> Path:
    """The same content as `answer_markdown`, as a Word document (python-docx)."""
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    cites = numbered_citations(answer)
    document = docx.Document()
    for style_name in ("Normal", "Heading 1", "Heading 2", "Title"):
        style = document.styles[style_name]
        rpr = style.element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    document.styles["Normal"].font.size = Pt(11)

    document.add_heading("问答简报", level=1)
    p = document.add_paragraph()
    p.add_run("问题：").bold = True
    p.add_run(answer.question)
    document.add_heading("回答", level=2)
    if answer.refused:
        document.add_paragraph(answer.text or f"{REFUSAL}与该问题直接相关的内容。")
    else:
        for line in answer_body(answer, cites).splitlines() or [""]:
            document.add_paragraph(line)
    rows = item_rows(answer, cites)
    if rows:
        headers = ["地区", "名称", "状态", "年份", "出处"]
        table = document.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        for cell, h in zip(table.rows[0].cells, headers):
            cell.text = h
        for row in rows:
            for cell, value in zip(table.add_row().cells, row):
                cell.text = str(value)
    for note in answer.notes:
        document.add_paragraph(f"注：{note}")
    sources = [(f"[{n}] ", c) for n, c in enumerate(cites, start=1)]
    if not cites and answer.related:
        sources = [("", hit_citation(h)) for h in answer.related]
    if sources:
        document.add_heading("出处" if cites else "相关内容", level=2)
        for label, c in sources:
            document.add_paragraph(f"{label}{citation_text(c)}")
            quote = document.add_paragraph((c.quote or "").strip())
            quote.paragraph_format.left_indent = Pt(18)
            for run in quote.runs:
                run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    document.add_paragraph(f"生成时间：{time.strftime('%Y-%m-%d %H:%M')}")
    path = Path(path)
    document.save(str(path))
    return path


def export_name(question: str, ext: str) -> str:
    """A file name for an export: 问答简报-<question start>-<time>.<ext>, safe on any OS."""
    stem = re.sub(r"[^\w\u4e00-\u9fff]+", "", question or "")[:16] or "问答"
    return f"问答简报-{stem}-{time.strftime('%Y%m%d-%H%M%S')}.{ext}"
