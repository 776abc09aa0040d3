"""Similar wording for drafts (rag.similar): sentence splitting, character diff, the sentence index
built with the chunk index, the minimum-similarity note, "另见 N 处" grouping, filters, CLI and the
dev-set target (recall@5 ≥ 0.90 on the `similar` questions)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rag.cli import main as cli
from rag.clean import clean
from rag.config import Config
from rag.evaluate import evaluate_similar, load_questions, matches
from rag.pipeline import Pipeline
from rag.retrieve import Filters
from rag.similar import (NO_MATCH_NOTE, SENTENCES_JSON, SENTENCES_NPY, char_diff, diff_html, masked,
                         split_sentences, similar)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QUESTIONS = ROOT / "eval" / "questions.jsonl"


def corpus_text(name: str) -> str:
    return clean((CORPUS / name).read_text("utf-8")).text


def dev_question(qid: str) -> dict:
    return next(q for q in load_questions(QUESTIONS) if q["id"] == qid)


# ---------------------------------------------------------------- char_diff

DIFF_TABLE = [
    ("identical",
     "技术合同成交额42.6亿元，同比增长17.9%。", "技术合同成交额42.6亿元，同比增长17.9%。",
     [("equal", "技术合同成交额42.6亿元，同比增长17.9%。")]),
    ("region swapped",
     "滨海区科技活动周共举办活动36场。", "云台区科技活动周共举办活动36场。",
     [("delete", "滨海"), ("insert", "云台"), ("equal", "区科技活动周共举办活动36场。")]),
    ("numbers changed (a number is one unit)",
     "全年新认定高新技术企业78家，有效高新技术企业总数达到356家。",
     "全年新认定高新技术企业89家，有效高新技术企业总数达到402家。",
     [("equal", "全年新认定高新技术企业"), ("delete", "78"), ("insert", "89"),
      ("equal", "家，有效高新技术企业总数达到"), ("delete", "356"), ("insert", "402"), ("equal", "家。")]),
    ("insertion in the earlier report",
     "组织研发费用归集专题培训9场。", "组织研发费用归集和高企申报专题培训9场。",
     [("equal", "组织研发费用归集"), ("insert", "和高企申报"), ("equal", "专题培训9场。")]),
    ("deletion (the draft has more)",
     "联合3家合作银行推出“海科贷”专属信贷产品。", "联合合作银行推出专属信贷产品。",
     [("equal", "联合"), ("delete", "3家"), ("equal", "合作银行推出"), ("delete", "“海科贷”"),
      ("equal", "专属信贷产品。")]),
    ("totally different",
     "周末食堂供应红烧肉", "技术合同成交额42.6亿元",
     [("delete", "周末食堂供应红烧肉"), ("insert", "技术合同成交额42.6亿元")]),
    ("decimal and Latin units",
     "R&D经费支出33.1亿元", "R&D经费支出19.7亿元",
     [("equal", "R&D经费支出"), ("delete", "33.1"), ("insert", "19.7"), ("equal", "亿元")]),
    ("empty draft", "", "新增省级重点实验室3家。", [("insert", "新增省级重点实验室3家。")]),
]


@pytest.mark.parametrize("name,a,b,expected", DIFF_TABLE, ids=[row[0] for row in DIFF_TABLE])
def test_char_diff_table(name, a, b, expected):
    ops = char_diff(a, b)
    assert ops == expected
    # Both sides can be read back from the diff.
    assert "".join(t for op, t in ops if op != "insert") == a
    assert "".join(t for op, t in ops if op != "delete") == b


def test_diff_html_marks_differences_and_escapes():
    ops = char_diff("组织<专题>培训9场", "组织<专题>培训11场")
    assert diff_html(ops) == "组织&lt;专题&gt;培训<del>9</del><ins>11</ins>场"


# ---------------------------------------------------------------- split_sentences

SPLIT_TABLE = [
    ("binhai-2021-annual.txt", "sentence ends",
     "一是省级技术创新中心实现零的突破。主动对接省科技厅，依托海川大学海洋药物研究院和瀚海生物科技股份有限公司，"
     "联合区内9家骨干企业和2家三甲医院组建创新联合体。",
     ["一是省级技术创新中心实现零的突破。",
      "主动对接省科技厅，依托海川大学海洋药物研究院和瀚海生物科技股份有限公司，联合区内9家骨干企业和2家三甲医院组建创新联合体。"]),
    ("binhai-2021-annual.txt", "semicolons",
     "全年新认定高新技术企业78家，有效高新技术企业总数达到356家；702家企业通过国家科技型中小企业评价入库，同比增长21.4%；"
     "技术合同成交额42.6亿元，同比增长17.9%；",
     ["全年新认定高新技术企业78家，有效高新技术企业总数达到356家；",
      "702家企业通过国家科技型中小企业评价入库，同比增长21.4%；",
      "技术合同成交额42.6亿元，同比增长17.9%；"]),
    ("binhai-2021-annual.txt", "heading lines",
     "一、2021年主要工作及成效\n（一）坚持平台引领，创新策源能力明显增强\n一是省级技术创新中心实现零的突破。",
     ["一、2021年主要工作及成效", "（一）坚持平台引领，创新策源能力明显增强", "一是省级技术创新中心实现零的突破。"]),
    ("002_b16fed0983384786.txt", "inline headings of a report pasted as one paragraph",
     "连续2年入选全国创新百强区。一、2023年工作情况(一)强化战略布局规划,夯实科技创新基础支撑一是打造全域创新标杆。"
     "在市局支持指导下探索中心城区全域创新,启动金湖路科创智谷建设,发布建设方案规划,打造2处“全域创新”标杆示范。",
     ["连续2年入选全国创新百强区。", "一、2023年工作情况", "(一)强化战略布局规划,夯实科技创新基础支撑",
      "一是打造全域创新标杆。",
      "在市局支持指导下探索中心城区全域创新,启动金湖路科创智谷建设,发布建设方案规划,打造2处“全域创新”标杆示范。"]),
    ("002_b16fed0983384786.txt", "OCR'd full stop (2o) before an item",
     "每万名就业人员中研发人员数增速全市第2o三是推动产业集聚。持续做大做强科技服务业,龙头企业中石化经纬公司获批全区首个省级技术创新中心。",
     ["每万名就业人员中研发人员数增速全市第2o", "三是推动产业集聚。",
      "持续做大做强科技服务业,龙头企业中石化经纬公司获批全区首个省级技术创新中心。"]),
    ("anping-2022-annual.txt", "a short heading joins the item after it",
     "二、存在的问题一是创新主体总量偏小。全县高新技术企业和科技型中小企业数量在全市处于末位,企业规模小、研发能力弱,缺少行业龙头企业。",
     ["二、存在的问题一是创新主体总量偏小。",
      "全县高新技术企业和科技型中小企业数量在全市处于末位,企业规模小、研发能力弱,缺少行业龙头企业。"]),
    ("liuxi-2023-annual.txt", "a short heading sentence joins the next",
     "二、存在问题。一是产业结构偏单一，",
     ["二、存在问题。一是产业结构偏单一，"]),
    ("fenglin-2023-annual.txt", "a short item title joins its body",
     "（一）提升平台能级。支持东临省工业软件技术创新中心",
     ["（一）提升平台能级。支持东临省工业软件技术创新中心"]),
]


@pytest.mark.parametrize("doc,name,snippet,expected", SPLIT_TABLE, ids=[row[1] for row in SPLIT_TABLE])
def test_split_sentences_on_real_lines(doc, name, snippet, expected):
    assert snippet in corpus_text(doc), "the table must quote the cleaned corpus text"
    assert [snippet[s:e] for s, e in split_sentences(snippet)] == expected


def test_split_sentences_covers_every_report_in_order():
    for path in sorted(CORPUS.glob("*.txt")):
        text = clean(path.read_text("utf-8")).text
        spans = split_sentences(text)
        assert spans, path.name
        assert all(s < e for s, e in spans)
        assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:])), path.name
        # Nothing but whitespace is left between sentences.
        gaps = [text[e1:s2] for (_, e1), (s2, _) in zip(spans, spans[1:])]
        assert all(not g.strip() for g in gaps), path.name


def test_masked_text_ignores_region_names_self_references_and_numbers():
    names = ["滨海区", "云台区", "滨海", "云台"]
    a = masked("2021年，滨海区科技局紧扣建设目标，全区新增高企78家。", names)
    b = masked("2022年，云台区科技局紧扣建设目标，全县新增高企1,024家。", names)
    assert a == b
    assert masked("新增省级重点实验室3家", names) != masked("新增市级工程技术研究中心3家", names)


# ---------------------------------------------------------------- whole-corpus index

UNRELATED_DRAFTS = [
    "周六下午我们在学校操场举行了一场足球比赛，双方球员奋力拼搏，最终红队以三比二获胜。世界杯小组赛中，阿根廷队凭借梅西的进球一比零战胜对手。",
    "本周食堂菜单包括红烧肉、清蒸鲈鱼、番茄炒蛋和紫菜蛋花汤，周五另有水果拼盘。食堂午餐供应时间为十一点半至一点，请大家错峰就餐。",
]


@pytest.mark.slow
@pytest.mark.parametrize("draft", UNRELATED_DRAFTS, ids=["足球比赛", "食堂菜单"])
def test_unrelated_draft_gets_no_match_note(built_index, draft):
    results = built_index.similar(draft)
    assert len(results) == 2
    for sm in results:
        assert sm.matches == []
        assert sm.note == NO_MATCH_NOTE
        assert sm.to_dict()["note"] == "未找到相似表述"


@pytest.mark.slow
def test_mixed_draft_matches_only_its_report_sentence(built_index):
    q = dev_question("B-029")
    results = built_index.similar(q["question"] + "周末食堂供应红烧肉和番茄炒蛋，欢迎大家前来就餐。")
    assert [bool(sm.matches) for sm in results] == [True, False]
    assert results[1].note == NO_MATCH_NOTE


@pytest.mark.slow
@pytest.mark.parametrize("qid", ["B-029", "C-030", "A-029", "D-031"])
def test_paraphrase_finds_gold_sentence_in_top5(built_index, qid):
    q = dev_question(qid)
    texts = {d.id: d.text for d in built_index.index.docs.values()}
    results = built_index.similar(q["question"], k=5)
    found = [m for sm in results for m in sm.matches[:5]
             if any(matches(m.doc, m.start, m.end, g, texts) for g in q["gold"])]
    assert found, [m.text for sm in results for m in sm.matches]
    m = found[0]
    # The span is a real range of the original report, and the diff rebuilds the matched sentence.
    original, compact = "".join(texts[m.doc][m.start:m.end].split()), "".join(m.text.split())
    assert original.startswith(compact[:4]) and original.endswith(compact[-4:])
    assert "".join(t for op, t in m.diff if op != "delete") == m.text
    assert m.region and m.title and m.year
    assert m.score >= 0.3


@pytest.mark.slow
def test_dev_similar_questions_reach_recall_target(built_index):
    texts = {d.id: d.text for d in built_index.index.docs.values()}
    result = evaluate_similar(lambda q, rec: built_index.similar(q), load_questions(QUESTIONS), texts)
    assert result["similar"]["n"] == 40
    assert result["similar"]["recall@5"] >= 0.90, result
    assert result["unmatched_sentences"] == 0  # every paraphrase passes the minimum similarity


@pytest.mark.slow
def test_filters_and_exclude(built_index):
    draft = "组织研发费用归集和高企申报专题培训，对重点企业开展一对一上门辅导。"
    by_region = built_index.similar(draft, filters=Filters(regions=["滨海区"]), min_score=0)
    assert by_region[0].matches and {m.region for m in by_region[0].matches} == {"滨海区"}
    by_year = built_index.similar(draft, filters=Filters(year=2023), min_score=0)
    assert by_year[0].matches and {m.year for m in by_year[0].matches} == {2023}
    everything = built_index.similar(draft, k=3)
    top_doc = everything[0].matches[0].doc
    without = built_index.similar(draft, k=3, exclude_docs={top_doc})
    docs = {m.doc for m in without[0].matches} | {a["doc"] for m in without[0].matches for a in m.also}
    assert top_doc not in docs
    # The module-level function takes the pipeline too.
    assert similar(built_index, draft, k=3)[0].matches[0].doc == top_doc


@pytest.mark.slow
def test_templated_sentence_is_shown_once_with_its_other_places(built_index):
    # "全区/全县各类孵化载体达到…家，在孵企业…家" is written the same way in two reports.
    results = built_index.similar("全区各类孵化载体达到9家，在孵企业210家。", k=5)
    first = results[0].matches[0]
    assert first.also, first
    assert first.also_note == f"另见 {len(first.also)} 处"
    places = {first.doc} | {a["doc"] for a in first.also}
    assert {"lingang-2023-halfyear.txt", "anping-2022-annual.txt"} <= places
    # The other places are not repeated as separate matches.
    shown = [m.doc for m in results[0].matches]
    assert len(places & set(shown)) == 1


@pytest.mark.slow
def test_sentence_table_is_stored_in_the_index(built_index):
    index = built_index.index
    table = index.read_extra(SENTENCES_JSON)
    vectors = index.read_array(SENTENCES_NPY)
    assert SENTENCES_JSON in index.manifest["files"] and SENTENCES_NPY in index.manifest["files"]
    assert vectors.dtype == np.float32 and vectors.shape == (len(table["sentences"]), index.manifest["dim"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    texts = {d.id: d.text for d in index.docs.values()}
    for r in table["sentences"][::50]:
        assert set(r) >= {"doc", "start", "end", "text", "section", "region", "year", "title", "chunk"}
        assert "".join(r["text"].split())[:10] in "".join(texts[r["doc"]][r["start"]:r["end"]].split())


@pytest.mark.slow
def test_eval_similar_command(built_index, tmp_path):
    qs = tmp_path / "q.jsonl"
    rows = [dev_question("B-029"), dev_question("C-030"), {"id": "F-1", "type": "factoid", "question": "x", "gold": []}]
    qs.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    out = CliRunner().invoke(cli, ["eval-similar", "--corpus", str(CORPUS), "--index", str(built_index.config.index_dir),
                                   "--questions", str(qs), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["similar"]["n"] == 2 and data["similar"]["recall@5"] == 1.0
    assert set(data["search"]) >= {"recall@1", "recall@5"}


# ---------------------------------------------------------------- a small two-report corpus

def _opening(n_lines: int = 8) -> str:
    lines = (CORPUS / "binhai-2021-annual.txt").read_text("utf-8").splitlines()[:n_lines]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def twin_reports(tmp_path_factory):
    """滨海区's real opening and a copy with only the region name swapped to 云台区."""
    corpus = tmp_path_factory.mktemp("twins")
    text = _opening()
    (corpus / "binhai.txt").write_text(text, "utf-8")
    (corpus / "yuntai.txt").write_text(text.replace("滨海", "云台"), "utf-8")
    pipe = Pipeline(Config(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("twins-index")))
    pipe.build(show_bar=False)
    return pipe


DRAFT = ("2021年，我区科技局在区委、区政府的坚强领导和市科技局的有力指导下，紧扣“海洋生物医药创新高地”建设目标，"
         "围绕海洋生物医药、海洋新材料、海洋高端服务三大主攻方向，抓平台、育主体、聚人才、促转化，全区科技创新各项工作取得新的进展。")


@pytest.mark.slow
def test_region_swapped_duplicate_is_shown_once(twin_reports):
    results = twin_reports.similar(DRAFT, k=5)
    assert len(results) == 1
    matches_ = results[0].matches
    first = matches_[0]
    assert first.also_note == "另见 1 处"
    assert {first.doc, first.also[0]["doc"]} == {"binhai.txt", "yuntai.txt"}
    assert {first.region, first.also[0]["region"]} == {"滨海区", "云台区"}
    assert all(not m.text.startswith("2021年，") for m in matches_[1:])
    # The diff shows the region name as the difference.
    assert ("delete", "我") in first.diff and any(op == "insert" and t in ("滨海", "云台") for op, t in first.diff)
    # Excluding one report (the draft's own earlier version) leaves the other, alone.
    alone = twin_reports.similar(DRAFT, exclude_docs={"yuntai.txt"})[0].matches[0]
    assert alone.doc == "binhai.txt" and alone.also == []


@pytest.mark.slow
def test_similar_cli_json_and_batch(twin_reports, tmp_path):
    index = str(twin_reports.config.index_dir)
    out = CliRunner().invoke(cli, ["similar", DRAFT + "周末食堂供应红烧肉和番茄炒蛋，欢迎大家前来就餐。",
                                   "--index", index, "-k", "2", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    first, second = data["sentences"]
    assert first["note"] == "" and len(first["matches"]) <= 2
    m = first["matches"][0]
    assert set(m) >= {"doc", "title", "region", "year", "section", "start", "end", "text", "score", "diff", "also"}
    assert second == {"sentence": "周末食堂供应红烧肉和番茄炒蛋，欢迎大家前来就餐。", "matches": [], "note": "未找到相似表述"}

    human = CliRunner().invoke(cli, ["similar", DRAFT, "--index", index, "--region", "云台区"])
    assert human.exit_code == 0 and "另见" not in human.output and "云台区" in human.output
    assert "相似度" in human.output and "[-我-]" in human.output

    draft_file = tmp_path / "draft.txt"
    draft_file.write_text(DRAFT, "utf-8")
    from_file = CliRunner().invoke(cli, ["similar", "--file", str(draft_file), "--index", index, "--json",
                                         "--exclude", "binhai.txt"])
    assert json.loads(from_file.output)["sentences"][0]["matches"][0]["doc"] == "yuntai.txt"

    batch = tmp_path / "drafts.jsonl"
    batch.write_text(json.dumps({"id": "d1", "question": DRAFT}, ensure_ascii=False) + "\n"
                     + json.dumps({"id": "d2", "question": "食堂午餐供应时间为十一点半至一点，请大家错峰就餐。"},
                                  ensure_ascii=False) + "\n", "utf-8")
    out = CliRunner().invoke(cli, ["similar", "--batch", str(batch), "--index", index, "--json"])
    lines = [json.loads(line) for line in out.output.splitlines()]
    assert [row["id"] for row in lines] == ["d1", "d2"]
    assert lines[0]["sentences"][0]["matches"] and lines[1]["sentences"][0]["note"] == "未找到相似表述"


@pytest.mark.slow
def test_rebuild_reuses_sentence_vectors(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "binhai.txt").write_text(_opening(4), "utf-8")
    pipe = Pipeline(Config(corpus_dir=corpus, index_dir=tmp_path / "index"))
    pipe.build(show_bar=False)
    first = pipe.index.read_extra(SENTENCES_JSON)
    before = pipe.index.read_array(SENTENCES_NPY)
    assert first["embedded"] == len({r["hash"] for r in first["sentences"]}) > 0

    pipe.build(show_bar=False)  # nothing changed: every sentence vector is reused
    again = pipe.index.read_extra(SENTENCES_JSON)
    assert again["embedded"] == 0 and again["reused"] == len(again["sentences"])
    assert np.array_equal(pipe.index.read_array(SENTENCES_NPY), before)

    with open(corpus / "binhai.txt", "a", encoding="utf-8") as f:
        f.write("全年新增省级重点实验室2家，新认定市级技术创新中心5家。\n")
    pipe.build(show_bar=False)  # one new sentence
    third = pipe.index.read_extra(SENTENCES_JSON)
    assert third["embedded"] == 1
    assert any(r["text"].startswith("全年新增省级重点实验室2家") for r in third["sentences"])
