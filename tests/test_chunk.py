"""Heading detection and chunking on real lines from the seeds and corpus-dev reports."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.chunk import find_headings, heading_kind, part_of
from rag.clean import clean, is_residue
from rag.ingest import prepare
from rag.load import load_corpus

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

# (line as it stands in a report, expected heading kind or None for a look-alike)
HEADING_TABLE = [
    ("第一部分 2022年工作总结", "part"),
    ("第二部分 存在的问题", "part"),
    ("第三部分 2023年工作计划", "part"),
    ("一、推进高端资源集聚实现新突破", "cn"),
    ("二、推动科技成果转化实现新突破", "cn"),
    ("三、优化科技创新力量布局实现新突破", "cn"),
    ("一、上半年工作总结", "cn"),
    ("二、存在问题", "cn"),
    ("三、下半年工作安排", "cn"),
    ("一、2022年工作情况", "cn"),
    ("十一、其他工作", "cn"),
    ("（一）坚持平台引领，创新策源能力明显增强", "paren_cn"),
    ("（二）坚持梯次培育，企业创新主体不断壮大", "paren_cn"),
    ("（三）突出企业创新主体，科技企业培育成效显著。一是加强科技企业孵化载体建设", "paren_cn"),
    ("(一)强化战略布局规划,夯实科技创新基础支撑一是打造全域创新标杆。", "paren_cn"),
    ("（六）营造浓厚创新氛围", "paren_cn"),
    ("一是集聚科技创新人才。扩大各领域人才队伍建设。", "shi"),
    ("二是集聚科技创新资源。打通部门间数据壁垒", "shi"),
    ("三是谋划优势产业项目。引导支持辖区企业积极申报市级以上重点项目X余次", "shi"),
    ("五是种质资源平台加快建设。建成县级玉米种质资源库，入库保存各类种质资源1.2万份", "shi"),
    ("1. 创新平台建设再上新台阶", "num"),
    ("2. 企业创新主体持续壮大", "num"),
    ("1、着力推进高新技术产业发展。一是创新服务方式。", "num"),
    ("2、狠抓“双创”平台建设。", "num"),
    ("3、在加快创新平台建设上全力以赴。", "num"),
    ("1．科技企业培育稳步推进", "num"),
    ("（1）省级重点实验室再添新军。由海川大学牵头", "paren_num"),
    ("（5）企业研发机构覆盖面扩大。新增区级企业研发中心23家", "paren_num"),
    ("(2)市级技术创新中心梯队加快形成", "paren_num"),
    ("①建设海洋生物医药中试平台", "circled"),
    ("②推进知识产权质押融资", "circled"),
    # look-alikes
    ("1.5亿元专项资金已全部拨付到位。", None),
    ("12.6亿元的首发募集资金用于研发。", None),
    ("3.35%的研发投入强度位居全市前列。", None),
    ("2022年，区科技局深入学习贯彻习近平新时代中国特色社会主义思想。", None),
    ("主要做法有三：一是建立培育库，二是上门辅导。", None),
    ("统一是前提，协同是关键。", None),
    ("唯一是指全省仅此一家综合类中心。", None),
    ("一批重点项目落地见效。", None),
    ("“十四五”科技创新规划全面实施。", None),
    ("第1页 / 共17页", None),
    ("区科技局2022年平台建设工作总结及2023年工作思路", None),
    ("东临省海洋生物医药技术创新中心获准建设，成为全市海洋领域首家省级技术创新中心", None),
    ("2021年8月，东临省海洋生物医药技术创新中心获准建设", None),
]


@pytest.mark.parametrize("line,kind", HEADING_TABLE)
def test_heading_kind(line, kind):
    assert heading_kind(line) == kind


def test_table_is_large_enough():
    assert len(HEADING_TABLE) >= 40


def test_inline_headings_in_one_paragraph():
    # seed 002 pastes its whole body as one paragraph
    text = ("今年以来,市南区科技局深入实施创新驱动发展战略。一、2023年工作情况(一)强化战略布局规划,夯实科技创新基础支撑"
            "一是打造全域创新标杆。在市局支持指导下探索中心城区全域创新。二是提升科创平台能级。出台重点实验室管理办法,"
            "全区技术合同成交额超68亿元,增长25机(二)做大做强企业主体,引领产业集聚发展一是壮大企业梯队。")
    titles = [h.title for h in find_headings(text)]
    assert titles == ["一、2023年工作情况", "(一)强化战略布局规划,夯实科技创新基础支撑", "一是打造全域创新标杆",
                      "二是提升科创平台能级", "(二)做大做强企业主体,引领产业集聚发展", "一是壮大企业梯队"]


def test_section_title_ends_after_keyword():
    text = "二、2024年工作计划2024年是落实“十四五”规划的攻坚之年。"
    assert find_headings(text)[0].title == "二、2024年工作计划"


@pytest.mark.parametrize("section,part", [
    (["一、2022年工作情况", "（三）突出企业创新主体"], "achievement"),
    (["二、存在的问题"], "problems"),
    (["三、2023年工作计划", "（一）主要目标"], "plan"),
    (["三、下半年工作安排"], "plan"),
    (["第二部分 2023年工作计划"], "plan"),
    (["一、推进高端资源集聚实现新突破", "一是集聚科技创新人才"], "achievement"),
])
def test_part_of(section, part):
    assert part_of(section, "achievement") == part


@pytest.fixture(scope="module")
def prepared():
    docs, errors = load_corpus(CORPUS)
    assert not errors
    return prepare(docs)


FRAGMENT = re.compile(r"^\d{1,3}、$")


def _removed_is_residue(removed: str) -> bool:
    stripped = removed.strip(" \t\r\n\u3000\xa0")
    if not stripped or FRAGMENT.match(stripped):
        return True
    lines = [l.strip(" \t\u3000\xa0") for l in re.split(r"\r\n|\r|\n", removed)]
    return all(not l or is_residue(l) or FRAGMENT.match(l) for l in lines)


def test_every_chunk_span_holds_its_text(prepared):
    """For every chunk of the corpus: its shown text is original[start:end] once residue is taken out."""
    checked = 0
    for p in prepared:
        original, offsets = p.doc.text, p.cleaned.offsets
        pos = {o: i for i, o in enumerate(offsets)}
        for c in p.chunks:
            assert 0 <= c.start < c.end <= len(original)
            inside = [i for i in range(c.start, c.end) if i in pos]
            shown = "".join(p.cleaned.text[pos[i]] for i in inside)
            assert shown == c.text, (c.id, c.text[:40])
            for i in inside:  # every shown character is the original one (or folded whitespace)
                assert original[i] == p.cleaned.text[pos[i]] or p.cleaned.text[pos[i]] in " \n"
            removed, run = [], []
            for i in range(c.start, c.end):
                if i in pos:
                    if run:
                        removed.append("".join(run))
                        run = []
                else:
                    run.append(original[i])
            assert all(_removed_is_residue(r) for r in removed), (c.id, removed)
            checked += 1
    assert checked > 500


def test_chunks_never_cross_top_level_sections(prepared):
    for p in prepared:
        for c in p.chunks:
            # A chunk may open with its own top-level heading, never hold a second one.
            tops = [h for h in find_headings(c.text) if h.kind in ("part", "cn") and h.start > 0]
            assert not tops, (c.id, c.text[:60])


def test_seed_structure_and_metadata(prepared):
    by_id = {p.doc.id: p for p in prepared}
    binhai = by_id["binhai-2022-annual.txt"]
    assert binhai.doc.meta["region"] == "滨海区" and binhai.doc.meta["year"] == 2022
    assert binhai.doc.meta["plan_year"] == 2023
    plan = [c for c in binhai.chunks if c.part == "plan"]
    assert plan and all(c.section[0] == "第三部分 2023年工作计划" for c in plan)
    assert any(c.part == "problems" for c in binhai.chunks)
    seed002 = by_id["002_b16fed0983384786.txt"]
    assert seed002.doc.meta["region"] == "市南区"
    assert any(c.section[:2] == ["一、2023年工作情况", "(二)做大做强企业主体,引领产业集聚发展"] for c in seed002.chunks)
    seed001 = by_id["001_8dd8c04ef119a0fa.txt"]
    assert "统计测算R&D经费支出xx.x亿元" in "".join(c.text for c in seed001.chunks)  # page fragment glued back


def test_long_items_are_split_at_sentence_ends(prepared):
    for p in prepared:
        for c in p.chunks:
            assert len(c.text) <= 450 * 2


def test_one_sentence_items_are_kept_and_bare_parents_dropped():
    from rag.clean import clean as _clean
    from rag.chunk import chunk_document
    from rag.types import Document

    text = ("测试区科技局2023年工作总结\n一、2023年工作情况\n（一）新增市级重点实验室2家。\n"
            "（二）企业培育。高新技术企业达到88家，科技型中小企业入库120家。\n二、存在问题\n（一）平台层级偏低。\n")
    doc = Document("t.txt", "测试区科技局2023年工作总结", text, {"region": "测试区"})
    chunks = chunk_document(doc, _clean(text), text.index("\n") + 1)
    joined = "".join(c.text for c in chunks)
    assert "新增市级重点实验室2家" in joined and "平台层级偏低" in joined
    assert all(c.text not in ("一、2023年工作情况", "二、存在问题") for c in chunks)
