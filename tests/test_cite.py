"""Citation text, numbering, highlighted passages and DOCX / Markdown exports (rag.cite)."""
from __future__ import annotations

import docx
import pytest

from rag import cite
from rag.types import Answer, Chunk, Citation, Claim, Hit, Item

TITLE = "滨海区科技局2022年工作总结和2023年工作计划"


@pytest.mark.parametrize("section, start, end, expected", [
    (["一、2022年工作总结", "（三）突出企业创新主体，科技企业培育成效显著"], 1233, 1302,
     f"〔{TITLE}，一、（三），第1234–1302字〕"),
    (["一、2022年工作总结"], 0, 10, f"〔{TITLE}，一，第1–10字〕"),
    ([], 0, 223, f"〔{TITLE}，第1–223字〕"),
    (["第一部分 2022年工作总结", "3. 科技成果转化提速增效", "（1）技术交易规模稳步扩大"], 968, 1052,
     f"〔{TITLE}，第一部分3.（1），第969–1052字〕"),
    (["二、存在问题", "1、高新技术企业总量较少"], 1020, 1100, f"〔{TITLE}，二、1，第1021–1100字〕"),
    (["一、上半年工作总结", "1、科技企业培育稳步推进", "三是抓好政策兑现"], 373, 434,
     f"〔{TITLE}，一、1、三是，第374–434字〕"),
    (["二、2022年工作计划", "（一）推动创新平台提质增效", "四是围绕海洋药物布局区级重点实验室5家"], 2201, 2250,
     f"〔{TITLE}，二、（一）四是，第2202–2250字〕"),
    (["（2）市级技术创新中心梯队加快形成"], 5, 6, f"〔{TITLE}，（2），第6–6字〕"),
    (["附件"], 5, 9, f"〔{TITLE}，附件，第6–9字〕"),  # a heading without a marker keeps its title
])
def test_citation_text(section, start, end, expected):
    c = Citation("binhai-2022-annual.txt", TITLE, section, start, end, "……")
    assert cite.citation_text(c) == expected


def test_citation_text_falls_back_to_file_name():
    c = Citation("003_88992f45b871994d.txt", "", ["二、存在问题"], 0, 5, "x")
    assert cite.citation_text(c) == "〔003_88992f45b871994d.txt，二，第1–5字〕"


def _cit(start, end, quote="引文", section=("一、2022年工作总结", "（一）平台建设")):
    return Citation("binhai-2022-annual.txt", TITLE, list(section), start, end, quote)


@pytest.fixture
def answer() -> Answer:
    a, b, c = _cit(10, 20, "技术合同成交额51.3亿元"), _cit(30, 40, "同比增长20.4%"), _cit(50, 60, "东临省技术创新中心获批")
    return Answer(
        question="滨海区2022年技术合同成交额是多少？",
        text="滨海区2022年技术合同成交额51.3亿元，同比增长20.4%。",
        claims=[Claim("滨海区2022年技术合同成交额51.3亿元", [a]), Claim("同比增长20.4%", [b, a])],
        items=[Item("滨海区", "东临省海洋功能糖技术创新中心", "approved", "provincial", 2022, "技术创新中心", [c]),
               Item("云台区", "名称|带竖线", "planned", "provincial", 2023, "", [a])],
        notes=["测试备注"],
    )


def test_numbering_dedupes_in_reading_order(answer):
    numbered = cite.numbered_citations(answer)
    assert [(c.start, c.end) for c in numbered] == [(10, 20), (30, 40), (50, 60)]
    assert cite.markers_for(answer.claims[1].citations, numbered) == "[1][2]"


def test_answer_body_inserts_markers_after_claims(answer):
    assert cite.answer_body(answer) == "滨海区2022年技术合同成交额51.3亿元[1]，同比增长20.4%[1][2]。"


def test_answer_body_keeps_existing_markers(answer):
    answer.text = "成交额51.3亿元[1]，增长20.4%[2]。"
    assert cite.answer_body(answer) == answer.text


def test_item_rows(answer):
    rows = cite.item_rows(answer)
    assert rows[0][:4] == ["滨海区", "东临省海洋功能糖技术创新中心（省级）", "已获批", 2022]
    assert rows[0][4].startswith("[3] 〔") and TITLE in rows[0][4]
    assert rows[1][2] == "计划争创"


def test_passage_html_highlights_the_span_in_context():
    text = "第一行标题\n上一句是背景。<b>被引用的句子</b>在这里。后面还有话。\n下一行内容\n" + "远处的文字" * 100
    start = text.index("<b>")
    end = text.index("在这里") + 3
    out = cite.passage_html(text, start, end, context=40)
    assert "<mark>&lt;b&gt;被引用的句子&lt;/b&gt;在这里</mark>" in out
    assert "上一句是背景。" in out and "后面还有话。" in out  # surrounding text
    assert "下一行内容" in out  # the neighbouring line, complete
    assert "<b>" not in out  # document text is escaped
    assert out.count("<mark>") == 1


def test_answer_html_has_markers_and_openable_passages(answer):
    from rag.types import Document

    text = "x" * 10 + "技术合同成交额51.3亿元" + "y" * 60
    docs = {"binhai-2022-annual.txt": Document("binhai-2022-annual.txt", TITLE, text, {})}
    out = cite.answer_html(answer, docs)
    assert '<span class="marker">[1]</span>' in out
    assert out.count('<details class="citation"') == 3
    assert "<mark>技术合同成交" in out  # [10, 20) of the original text
    assert "一、2022年工作总结 › （一）平台建设" in out


def test_refusal_html_and_related():
    chunk = Chunk("a.txt#1", "a.txt", "某区科技局2023年工作总结", ["一、工作总结"], 0, 8, "相关的一段内容")
    refused = Answer("火星上有科技局吗？", "资料中未找到与火星科技局相关的内容。", refused=True,
                     related=[Hit(chunk, 0.3)])
    out = cite.answer_html(refused, {})
    assert 'class="refusal"' in out and "资料中未找到" in out and "相关内容" in out
    assert "相关的一段内容" in out
    md = cite.answer_markdown(refused)
    assert "资料中未找到" in md and "## 相关内容" in md and "〔某区科技局2023年工作总结，一，第1–8字〕" in md


def test_markdown_export(answer):
    md = cite.answer_markdown(answer, generated="2024-01-01 00:00")
    assert md.startswith("# 问答简报")
    assert "**问题**：滨海区2022年技术合同成交额是多少？" in md
    assert "滨海区2022年技术合同成交额51.3亿元[1]" in md
    assert f"[1] 〔{TITLE}，一、（一），第11–20字〕" in md
    assert "> 技术合同成交额51.3亿元" in md
    assert "| 地区 | 名称 | 状态 | 年份 | 出处 |" in md
    assert "名称\\|带竖线" in md  # a pipe in a cell does not break the table
    assert "注：测试备注" in md


def test_docx_export_contains_answer_and_citations(answer, tmp_path):
    path = cite.write_docx(answer, tmp_path / "brief.docx")
    document = docx.Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [cell.text for t in document.tables for row in t.rows for cell in row.cells]
    assert "滨海区2022年技术合同成交额51.3亿元[1]，同比增长20.4%[1][2]。" in text
    assert answer.question in text
    for c in cite.numbered_citations(answer):
        assert cite.citation_text(c) in text
    assert "技术合同成交额51.3亿元" in text  # the quoted passage
    assert cells[:5] == ["地区", "名称", "状态", "年份", "出处"]
    assert "东临省海洋功能糖技术创新中心（省级）" in cells


def test_write_markdown_roundtrip(answer, tmp_path):
    path = cite.write_markdown(answer, tmp_path / "brief.md")
    assert path.read_text("utf-8") .startswith("# 问答简报")


def test_export_name_is_safe():
    name = cite.export_name("../哪些区/获批了？<省级>", "docx")
    assert name.startswith("问答简报-") and name.endswith(".docx")
    assert not set("/\\<>?:*|") & set(name) and ".." not in name


def test_similar_html_renders_diff_ops_and_notes():
    results = [
        {"sentence": "全区技术合同成交额达到60亿元。", "note": "", "matches": [{
            "doc": "binhai-2022-annual.txt", "title": TITLE, "region": "滨海区", "year": 2022,
            "section": ["一、2022年工作总结"], "start": 0, "end": 10, "text": "技术合同成交额51.3亿元",
            "score": 0.8123, "diff": [("delete", "全区"), ("equal", "技术合同成交额"), ("delete", "达到60"),
                                      ("insert", "51.3"), ("equal", "亿元")], "also": [{}, {}]}]},
        {"sentence": "完全无关的<句子>。", "matches": [], "note": "未找到相似表述"},
    ]
    out = cite.similar_html(results)
    assert "相似度 0.81" in out and "<del>全区</del>" in out and "<ins>51.3</ins>" in out
    assert "另见 2 处" in out and f"〔{TITLE}，一，第1–10字〕" in out
    assert "未找到相似表述" in out and "&lt;句子&gt;" in out


def test_sources_line_is_left_to_the_citation_list(answer):
    answer.text = "滨海区成交额51.3亿元[1]。\n来源：[1]《滨海区科技局2022年工作总结》一、2022年工作总结"
    assert cite.answer_body(answer) == "滨海区成交额51.3亿元[1]。"
    assert "来源：" not in cite.answer_markdown(answer)
