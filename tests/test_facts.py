"""The facts table (rag.facts) against the ground truth of eval/facts.jsonl, and its traps.

Ground truth is used here only, to measure the extraction; nothing at run time reads it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.clean import clean
from rag.facts import FACTS_FILE, build_facts, core_name, quote_of
from rag.ingest import prepare
from rag.load import load_corpus
from rag.types import Document

ROOT = Path(__file__).resolve().parent.parent
GOLD = [json.loads(line) for line in open(ROOT / "eval" / "facts.jsonl", encoding="utf-8")]
GOLD_DOCS = {g["doc"] for g in GOLD}
GOLD_KINDS = {f["kind"] for g in GOLD for f in g["facts"]}
GENERIC = re.compile(r"^(省级|省|市级|国家级|国家备案)?(技术创新中心|重点实验室|工程技术研究中心|新型研发机构|院士工作站|"
                     r"科技企业孵化器|众创空间|国际科技合作基地)$")


def gold_code(f: dict) -> str:
    """Our (kind, level) in the vocabulary of eval/facts.jsonl."""
    kind, level = f["kind"], f["level"]
    if kind == "tech_innovation_center":
        return {"national": "national_tech_innovation_center", "provincial": "prov_tech_innovation_center",
                "city": "city_tech_innovation_center"}.get(level, "tech_innovation_center")
    if kind in ("key_lab", "engineering_center"):
        return f"prov_{kind}" if level == "provincial" else f"{level}_{kind}"
    if kind in ("incubator", "maker_space"):
        return f"national_{kind}" if level == "national" else f"{level}_{kind}"
    return kind


@pytest.fixture(scope="module")
def table() -> dict:
    docs, errors = load_corpus(ROOT / "corpus")
    assert not errors
    return build_facts(prepare(docs))


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    docs, _ = load_corpus(ROOT / "corpus")
    return {d.id: d.text for d in docs}


def ours(table: dict) -> set[tuple[str, str, str]]:
    return {(f["doc"], gold_code(f), f["status"]) for f in table["facts"]
            if f["doc"] in GOLD_DOCS and gold_code(f) in GOLD_KINDS}


def gold_set() -> set[tuple[str, str, str]]:
    return {(g["doc"], f["kind"], f["status"]) for g in GOLD for f in g["facts"]}


def test_doc_kind_status_precision_and_recall(table):
    pred, gold = ours(table), gold_set()
    tp = pred & gold
    precision, recall = len(tp) / len(pred), len(tp) / len(gold)
    assert precision >= 0.95, sorted(pred - gold)
    assert recall >= 0.97, sorted(gold - pred)


@pytest.mark.parametrize("kind", ["prov_tech_innovation_center", "prov_key_lab", "city_tech_innovation_center",
                                  "prov_engineering_center", "academician_workstation", "intl_cooperation_base"])
def test_platform_kinds_are_exact(table, kind):
    pred = {x for x in ours(table) if x[1] == kind}
    gold = {x for x in gold_set() if x[1] == kind}
    assert pred == gold, (sorted(pred - gold), sorted(gold - pred))


def test_named_platforms_are_found_with_their_status(table):
    named = [(g["doc"], f) for g in GOLD for f in g["facts"]
             if f["kind"] != "listed_company" and not GENERIC.match(f["name"]) and not re.search(r"家|企业", f["name"])]
    found = sum(1 for doc, f in named if any(
        p["doc"] == doc and gold_code(p) == f["kind"] and p["status"] == f["status"]
        and core_name(p["name"]) == core_name(f["name"]) for p in table["facts"]))
    assert found / len(named) >= 0.95


def test_headline_metrics_match_the_ground_truth(table):
    wrong = []
    for g in GOLD:
        for m in g["metrics"]:
            rows = [r for r in table["metrics"] if r["doc"] == g["doc"] and r["metric"] == m["metric"]]
            if not rows or rows[0]["value"] != m["value"]:
                wrong.append((g["doc"], m["metric"], m["value"], [r["value"] for r in rows]))
    assert not wrong


def find(table, doc, name_part, **kw):
    return [f for f in table["facts"] if f["doc"] == doc and name_part in f["name"]
            and all(f[k] == v for k, v in kw.items())]


def test_approved_applied_and_planned_are_told_apart(table):
    # 获准建设 / 已提交…正在评审中 / 谋划争创
    assert find(table, "binhai-2021-annual.txt", "海洋生物医药技术创新中心", status="approved", part="achievement")
    assert find(table, "beihu-2021-annual.txt", "海藻精深加工技术创新中心", status="applied", part="achievement")
    assert find(table, "beihu-2021-annual.txt", "滩涂贝类种业技术创新中心", status="planned")
    # "力争2023年获批" is a plan, not an approval.
    assert not find(table, "binhai-2022-annual.txt", "海洋新材料技术创新中心", status="approved")
    # "等待省里批复" contains 批复 but is still an application.
    assert find(table, "haichuan-2022-annual.txt", "智慧港航技术创新中心", status="applied")


def test_approved_item_mentioned_in_a_plan_stays_approved(table):
    plan = find(table, "binhai-2021-annual.txt", "海洋生物医药技术创新中心", part="plan")
    assert plan and all(f["status"] == "approved" for f in plan)
    # …and an applied one that the plan follows up stays applied.
    follow = find(table, "heyang-2022-annual.txt", "玉米种业技术创新中心", part="plan")
    assert follow and all(f["status"] == "applied" for f in follow)


def test_city_level_centre_with_a_provincial_looking_context_is_city_level(table):
    quartz = find(table, "shimen-2022-halfyear.txt", "青岚市电子级石英材料技术创新中心")
    assert quartz and all(f["level"] == "city" and f["kind"] == "tech_innovation_center" for f in quartz)
    # The provincial centre of the same field is only planned by 石门县 in 2022.
    assert all(f["status"] == "planned" for f in find(table, "shimen-2022-halfyear.txt", "东临省电子级石英材料"))


def test_provincial_key_labs_are_not_technology_innovation_centres(table):
    labs = find(table, "lingang-2023-halfyear.txt", "腐蚀与防护重点实验室")
    assert labs and all(f["kind"] == "key_lab" and f["level"] == "provincial" for f in labs)
    centres = [f for f in table["facts"] if f["doc"] == "baisha-2022-halfyear.txt"
               and f["kind"] == "tech_innovation_center" and f["level"] == "provincial" and f["status"] == "approved"]
    assert not centres  # 白沙区 has a provincial key lab, no provincial centre


def test_city_report_gives_the_district_named_in_the_sentence(table):
    regions = {f["name"]: f["region"] for f in table["facts"]
               if f["doc"] == "qinglan-2023-annual.txt" and f["part"] == "achievement"}
    assert regions["东临省集成电路先进封装技术创新中心"] == "南屏区"
    assert regions["东临省工业软件技术创新中心"] == "枫林区"
    assert regions["东临省智能计算芯片技术创新中心"] == "东湖区"
    assert regions["东临省电子级石英材料技术创新中心"] == "石门县"
    yunling = find(table, "yunling-2024-annual.txt", "燃料电池动力系统技术创新中心", status="approved")
    assert yunling and yunling[0]["region"] == "龙泉区" and yunling[0]["doc_region"] == "云岭市"
    haichuan = find(table, "haichuan-2022-annual.txt", "盐碱地海水农业技术创新中心")
    assert haichuan and haichuan[0]["region"] == "云台区"


def test_anonymised_region_is_kept_as_written(table):
    x = [f for f in table["facts"] if f["doc"] == "000_b996cbb5c34144bc.txt" and f["kind"] == "tech_innovation_center"
         and f["status"] == "approved" and not f["generic"]]
    assert x and x[0]["region"] == "X区" and x[0]["level"] == "provincial" and x[0]["province"] == "X"


def test_every_span_quotes_its_sentence(table, texts):
    for row in table["facts"] + table["metrics"]:
        text = texts[row["doc"]]
        assert quote_of(text, row["start"], row["end"]) == row["quote"]
    for row in table["metrics"]:
        assert row["value"] in row["quote"]
    for f in table["facts"]:
        if f["kind"] != "listed_company":
            assert f["name"] in f["quote"]


def test_a_small_report_of_its_own():
    """Status rules on a report written for this test (not from the corpus)."""
    text = ("北山区科技局2023年工作总结和2024年工作计划\n"
            "一、2023年工作情况\n"
            "（一）平台建设。东临省智能制造技术创新中心获批建设；东临省新能源重点实验室已提交申请，目前正在等待评审；"
            "北山精密技术创新中心获批市级技术创新中心。\n"
            "二、2024年工作计划\n"
            "（一）创新平台。推动东临省智能制造技术创新中心加快建设；谋划争创东临省海洋装备技术创新中心。\n")
    docs = [Document("beishan.txt", "", text)]
    table = build_facts(prepare(docs))
    got = {(f["name"], f["level"], f["status"], f["part"]) for f in table["facts"]}
    assert ("东临省智能制造技术创新中心", "provincial", "approved", "achievement") in got
    assert ("东临省新能源重点实验室", "provincial", "applied", "achievement") in got
    assert ("北山精密技术创新中心", "city", "approved", "achievement") in got
    assert ("东临省智能制造技术创新中心", "provincial", "approved", "plan") in got
    assert ("东临省海洋装备技术创新中心", "provincial", "planned", "plan") in got
    cleaned = clean(text)
    for f in table["facts"]:
        assert quote_of(text, f["start"], f["end"], cleaned) == f["quote"]


@pytest.mark.slow
def test_index_stores_the_facts_table(built_index):
    stored = built_index.index.read_extra(FACTS_FILE)
    assert stored and stored["facts"] and stored["metrics"]
    assert any(f["region"] == "南屏区" and f["doc"] == "qinglan-2023-annual.txt" for f in stored["facts"])
