"""Cited answers without an LLM: route the question, answer from the facts table or the reports'
own sentences, and cite every claim with a span of the decoded original text.

Routes (see `analyze`):

- list     "哪些区建设了省级技术创新中心？" — exhaustive, from the facts table (never top-k):
           one item per region and platform with status, year and its own citation; items with
           another status or level than asked are listed apart ("另有：…"), never mixed in;
- item     "临港区2023年上半年获批的省级技术创新中心是哪个？" — the same table, one region;
- metric   "滨海区2022年技术合同成交额是多少？" — the figure first, then the sentence stating it;
- plan     "滨海区2023年计划争创什么平台？" — the plan part of the 2022 report (plus what the
           achievement part says about the same platforms);
- section  "云台区2022年在人才引育方面做了哪些工作？" — key sentences of the matching section(s),
           in document order;
- factoid  anything else naming a region or year — the best sentence(s) of the matching reports;
- passage  a draft sentence without region or year — the closest passages.

When no report covers the region and year asked about, the thing asked about is absent from
them, or the table has nothing of that kind, the answer is refused ("资料中未找到…") and the
nearest passages are offered in `related` (相关内容), not as an answer.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .facts import FACTS_FILE, KIND_LABELS, DocView, core_name, facts_from_index, is_generic_name, is_heading
from .retrieve import Filters, region_aliases
from .types import Answer, Citation, Claim, Hit, Item

REFUSAL = "资料中未找到"
STATUS_CN = {"approved": "已获批", "applied": "已申报、尚未获批", "planned": "计划争创"}
LEVEL_CN = {"national": "国家级", "provincial": "省级", "city": "市级", "district": "区县级", "": ""}

# Question words and filler that say nothing about what is asked.
QUESTION_STOP = set("""
多少 哪些 哪个 哪家 哪一个 哪一家 哪几个 什么 是否 已经 分别 还是 仍 在 了 吗 呢 有 是 的 和 与 及 等 对 其中 中
做 做了 开展 开展了 取得 取得了 工作 方面 情况 成效 进展 哪 些 几 多 少 请问 名称 名字 叫 哪里 怎样 如何 有何
全区 全市 全县 全年 年底 截至 期间 当年 上半年 下半年 年度 报告 总结 本级 所辖 区县 地区 各区 区 县 市 我们
""".split())
KIND_WORDS = [
    ("tech_innovation_center", r"技术创新中心|创新中心"),
    ("key_lab", r"重点实验室"),
    ("engineering_center", r"工程技术研究中心|工程研究中心"),
    ("new_rd_institution", r"新型研发机构"),
    ("academician_workstation", r"院士工作站"),
    ("incubator", r"孵化器"),
    ("maker_space", r"众创空间"),
    ("intl_cooperation_base", r"国际科技合作基地"),
    ("listed_company", r"上市"),
]
PLATFORM_KINDS = [k for k, _ in KIND_WORDS if k != "listed_company"]
ALL_PLATFORMS = re.compile(r"创新平台|科技平台|研发平台|平台")
METRIC_WORDS = [
    ("tech_contract_turnover", r"技术合同(?:登记)?(?:成交额|登记额)|合同成交额"),
    ("invention_patents", r"发明专利"),
    ("patents_granted", r"专利授权|授权专利|专利"),
    ("sci_tech_smes", r"科技型中小企业"),
    ("rd_spending", r"研发(?:经费)?投入|研发经费|R&D"),
    ("incubators_total", r"孵化载体|孵化器和众创空间"),
    ("high_tech_enterprises", r"(?<!新认定)(?<!认定)有效高新技术企业|(?<!新认定)(?<!认定了)(?<!认定)高新技术企业(?:有|达到|总数|数量)"),
]
HOW_MANY = re.compile(r"多少|几[家个件项名场]|是多少|规模")
LIST_SCOPE = re.compile(r"哪些(?:区县|区|县|地区|市|城市|单位|地方)|哪几个(?:区|县|地区)|所辖区县|区县中")
SECTION_Q = re.compile(r"在(?P<topic>.{2,14}?)方面|存在(?:哪些|的)?(?:问题|不足)|哪些(?:问题|不足|短板)|"
                       r"(?P<topic2>[\u4e00-\u9fa5]{2,10})工作(?:有|取得了)哪些|做了哪些工作|开展了哪些工作|做了什么|干了什么|"
                       r"有哪些工作|主要工作|取得了(?:哪些|什么)(?:成效|成绩)")
PLAN_Q = re.compile(r"计划|打算|安排|思路|下半年|明年|下一步")
STATUS_Q = re.compile(r"是否|了吗|有没有|是已获批还是|还是仍在|是否已")
NAME_IN_Q = re.compile(r"((?:[\u4e00-\u9fa5]{2}|X)省[\u4e00-\u9fa5]{2,20}?(?:技术创新中心|重点实验室|工程技术研究中心|"
                       r"国际科技合作基地)|[\u4e00-\u9fa5]{2,14}?(?:技术创新中心|重点实验室|孵化器|众创空间|院士工作站|研究院))")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
FOCUS_IDF = (4.0, 6.5)  # idf band of words that are specific yet used across the corpus


# --------------------------------------------------------------------------------------------
# What the answerer knows about one loaded index (built once per index build).


@dataclass
class Knowledge:
    index: object
    views: dict[str, DocView]
    facts: list[dict]
    metrics: list[dict]
    provinces: list[str]
    region_city: dict[str, str]
    region_level: dict[str, str]
    idf: dict[str, float]
    sentence_tokens: dict[tuple[str, int], set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, pipe) -> "Knowledge":
        index = pipe.index
        table = index.read_extra(FACTS_FILE) or facts_from_index(index)
        by_doc: dict[str, list] = defaultdict(list)
        for c in index.chunks:
            by_doc[c.doc].append(c)
        views = {d.id: DocView.build(d, None, by_doc.get(d.id, [])) for d in index.docs.values()}
        region_city, region_level = {}, {}
        for d in index.docs.values():
            r = d.meta.get("region", "")
            if r:
                region_level.setdefault(r, d.meta.get("level", ""))
                if d.meta.get("city"):
                    region_city[r] = d.meta["city"]
        for f in table["facts"]:  # districts known only from their city's report
            if f["region"] and f["region"] not in region_city and f["region"] != f["doc_region"]:
                city_doc = index.docs.get(f["doc"])
                if city_doc is not None and city_doc.meta.get("level") == "city":
                    region_city[f["region"]] = city_doc.meta.get("region", "")
                    region_level.setdefault(f["region"], "county" if f["region"].endswith("县") else "district")
        tokenize = pipe.tokenizer
        df: Counter = Counter()
        sentence_tokens = {}
        n = 0
        for doc_id, view in views.items():
            for i, s in enumerate(view.sentences):
                toks = set(tokenize(s.text))
                sentence_tokens[(doc_id, i)] = toks
                df.update(toks)
                n += 1
        idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
        return cls(index, views, table["facts"], table["metrics"], table.get("provinces", []),
                   region_city, region_level, idf, sentence_tokens)

    def idf_of(self, term: str) -> float:
        return self.idf.get(term, math.log(len(self.sentence_tokens) + 1))


def knowledge(pipe) -> Knowledge:
    """The Knowledge of the pipeline's current index (rebuilt when the index changes)."""
    with pipe._lock:
        index = pipe.index
        cached = getattr(pipe, "_answer_knowledge", None)
        if cached is None or cached.index is not index:
            cached = Knowledge.load(pipe)
            pipe._answer_knowledge = cached
        return cached


# --------------------------------------------------------------------------------------------
# Question analysis.


@dataclass
class Question:
    text: str
    regions: list[str]
    city: str | None
    years: list[int]
    province: str | None
    kinds: list[str]
    level: str | None
    status: str
    metrics: list[str]
    intent: str
    topic: str = ""
    names: list[str] = field(default_factory=list)
    half: str = ""  # "first" (上半年) | "second" (下半年) | "full" (全年)
    include_city: bool = True

    @property
    def year(self) -> int | None:
        return self.years[0] if self.years else None


def analyze(question: str, retriever, kn: Knowledge, filters: Filters | None = None) -> Question:
    f = retriever.understand(question)
    regions = list((filters.regions if filters and filters.regions else None) or f.regions)
    city = (filters.city if filters and filters.city else None) or f.city
    years = [int(y) for y in re.findall(r"(20\d\d)\s*年", question)]
    if filters and filters.year:
        years = [filters.year] + [y for y in years if y != filters.year]
    province = None
    for m in re.finditer(r"([\u4e00-\u9fa5]{2,3}|X)省", question):
        if m.group(1) in kn.provinces:
            province = m.group(1)
    kinds = [k for k, rx in KIND_WORDS if re.search(rx, question)]
    if "key_lab" in kinds and "tech_innovation_center" in kinds and not re.search(r"技术创新中心", question):
        kinds.remove("tech_innovation_center")
    if "engineering_center" in kinds and "tech_innovation_center" in kinds and not re.search(r"技术创新中心", question):
        kinds.remove("tech_innovation_center")
    if not kinds and ALL_PLATFORMS.search(question):
        kinds = list(PLATFORM_KINDS)
    level = None
    if re.search(r"国家级|国家备案|国家(?=[\u4e00-\u9fa5]{0,8}(中心|实验室|孵化器|众创空间|基地))", question):
        level = "national"
    elif re.search(r"省级|省(?=技术创新中心|重点实验室|工程|新型|国际)|省[\u4e00-\u9fa5]{0,3}平台", question):
        level = "provincial"
    elif re.search(r"市级", question):
        level = "city"
    planned_q = re.search(r"计划|争创|谋划|打算|思路", question)
    applied_q = re.search(r"(?<!未)申报|提交|等待|仍在申报|答辩", question)
    if applied_q and not planned_q:
        status = "applied"
    elif planned_q:
        status = "planned"
    else:
        status = "approved"
    metrics = [code for code, rx in METRIC_WORDS if re.search(rx, question)]
    if "invention_patents" in metrics and "patents_granted" in metrics and not re.search(r"专利授权|授权专利", question):
        metrics.remove("patents_granted")
    half = "first" if "上半年" in question else ("second" if "下半年" in question else "")
    if re.search(r"全年|最终", question):
        half = "full"
    names = [m.group(1) for m in NAME_IN_Q.finditer(question)
             if not re.match(r"(?:省级|省|国家级|国家|市级)(?:技术创新中心|重点实验室)$", m.group(1))]
    names = [re.sub(r"^(?:获批|获准|申报|建设|争创|的|了|年)+", "", n) for n in names]
    for i, n in enumerate(names):
        for r in sorted(kn.region_level, key=len, reverse=True):
            if n.startswith(r) and len(n) > len(r) + 4:
                n = names[i] = n[len(r):].lstrip("的")
        for p in kn.provinces:
            at = n.find(p + "省")
            if at > 0:
                names[i] = n[at:]
    names = [n for n in names if core_name(n) not in KIND_LABELS.values() and len(core_name(n)) > 4
             and not is_generic_name(n)
             and not re.search(r"哪|什么|是否|获批|获准|申报|争创|计划|建设|区县|地区|了", n)]
    q = Question(question, regions, city, years, province, kinds, level, status, metrics, "", names=names,
                 half=half, include_city=bool(re.search(r"本级", question)) or not re.search(r"区县|各区|哪些区|哪些县", question))
    q.intent = _intent(q, question)
    sm = SECTION_Q.search(question)
    if sm:
        q.topic = (sm.groupdict().get("topic") or sm.groupdict().get("topic2") or "").lstrip("年度")
    return q


def _intent(q: Question, text: str) -> str:
    cross = bool(LIST_SCOPE.search(text)) or q.city is not None or (q.province is not None and not q.regions)
    if cross and q.kinds:
        return "list"
    if q.kinds and PLAN_Q.search(text) and (q.regions or q.names):
        return "plan"
    if q.metrics and HOW_MANY.search(text) and not q.kinds:
        return "metric"
    if q.kinds and (q.regions or q.names) and not HOW_MANY.search(text) and re.search(
            r"哪|什么|名称|名字|是否|了吗|有没有|叫", text):
        return "item"
    if SECTION_Q.search(text) and (q.regions or q.years):
        return "section"
    if PLAN_Q.search(text) and q.regions:
        return "plan"
    if q.regions or q.years or re.search(r"[？?]|多少|哪些|什么|是否|吗", text):
        return "factoid"
    return "passage"


# --------------------------------------------------------------------------------------------
# The answerer.


class Answerer:
    def __init__(self, pipe):
        self.pipe = pipe
        self.kn = knowledge(pipe)
        self.retriever = pipe.retriever
        self.docs = self.kn.index.docs

    # -- entry point --------------------------------------------------------------------------

    def ask(self, question: str, filters: Filters | None = None) -> Answer:
        question = (question or "").strip()
        if not question:
            return Answer(question, f"{REFUSAL}：问题为空。", refused=True)
        q = analyze(question, self.retriever, self.kn, filters)
        refusal = self._coverage(q)
        if refusal:
            return self.refuse(q, refusal)
        route = getattr(self, f"_{q.intent}")
        self._aside_note = ""
        answer = route(q)
        if answer is None:
            text = self._nothing_found(q)
            if self._aside_note:
                text += f"\n报告中与此相关、但不属于所问的记载：{self._aside_note}。"
            return self.refuse(q, text)
        return answer

    # -- coverage and refusal ------------------------------------------------------------------

    def scope_docs(self, q: Question, *, plan: bool = False, year: int | None = None) -> list[str]:
        """Reports of the regions and year asked about (a year also admits the previous
        year's report for its plan part when `plan`)."""
        year = q.year if year is None else year
        out = []
        for d in self.docs.values():
            m = d.meta
            if q.regions and m.get("region") not in q.regions:
                continue
            if q.city and not (m.get("city") == q.city or m.get("region") == q.city):
                continue
            if year:
                ok = m.get("year") == year
                if plan:
                    ok = ok if m.get("kind") == "halfyear" and q.half == "second" else (m.get("plan_year") == year or ok)
                if not ok:
                    continue
            if q.half == "first" and m.get("kind") != "halfyear" and any(
                    self.docs[o].meta.get("kind") == "halfyear" for o in self._region_docs(m.get("region"), year)):
                continue
            out.append(d.id)
        return sorted(out)

    def _region_docs(self, region: str | None, year: int | None) -> list[str]:
        return [d.id for d in self.docs.values() if d.meta.get("region") == region and (not year or d.meta.get("year") == year)]

    def mentioning_docs(self, q: Question, year: int | None = None) -> list[str]:
        """City reports of that year that speak of the region ("云台区依托…获批建设")."""
        year = q.year if year is None else year
        out = []
        for d in self.docs.values():
            if d.meta.get("level") != "city" or (year and d.meta.get("year") != year):
                continue
            if any(r in self.kn.views[d.id].cleaned.text for r in q.regions):
                out.append(d.id)
        return out

    def _coverage(self, q: Question) -> str:
        """Why no report can answer (empty when some can)."""
        if q.intent in ("list", "passage"):
            return ""
        if q.regions:
            if q.intent == "plan":
                plan_years = [y for y in q.years[1:]] or q.years
                if plan_years and not self.scope_docs(q, plan=True, year=plan_years[-1]):
                    return self._no_report(q)
            if q.years and not (self.scope_docs(q) or self.mentioning_docs(q)):
                if not (q.intent == "plan" and self.scope_docs(q, plan=True)):
                    return self._no_report(q)
            if not q.years and not self.scope_docs(q):
                return self._no_report(q)
        if q.half == "full" and q.regions and q.years:
            kinds = {self.docs[d].meta.get("kind") for d in self.scope_docs(q)}
            if kinds == {"halfyear"}:
                return (f"{REFUSAL}：资料中只有{'、'.join(q.regions)}{q.year}年上半年的工作总结，"
                        f"没有全年数据。")
        return ""

    def _no_report(self, q: Question) -> str:
        have = sorted({(d.meta.get("year"), d.meta.get("kind")) for d in self.docs.values()
                       if d.meta.get("region") in q.regions and d.meta.get("year")})
        years = "、".join(f"{y}年{'上半年' if k == 'halfyear' else ''}" for y, k in have)
        where = "、".join(q.regions)
        when = f"{q.year}年" if q.year else ""
        tail = f"（现有{where}的报告：{years}）" if have else f"（资料中没有{where}的报告）"
        return f"{REFUSAL}：没有{where}{when}的工作报告{tail}。"

    def _nothing_found(self, q: Question) -> str:
        what = "、".join(f"{LEVEL_CN.get(q.level or '', '')}{KIND_LABELS[k]}" for k in q.kinds[:3]) or "相关内容"
        where = "、".join(q.regions) or (q.city or "")
        when = f"{q.year}年" if q.year else ""
        return f"{REFUSAL}：报告中没有{where}{when}{STATUS_CN.get(q.status, '') if q.kinds else ''}{what}的记载。"

    def refuse(self, q: Question, text: str) -> Answer:
        related = self.related(q)
        if related:
            text += "\n以下相关内容仅供参考，不构成答案。"
        return Answer(q.text, text, refused=True, related=related)

    def related(self, q: Question, k: int = 3) -> list[Hit]:
        try:
            return self.retriever.search(q.text, k)
        except Exception:  # noqa: BLE001 - related passages are a courtesy, never an error
            return []

    # -- citations -----------------------------------------------------------------------------

    def citation(self, doc_id: str, start: int, end: int) -> Citation:
        """A citation of original [start, end), its quote read back through the offset map."""
        view = self.kn.views[doc_id]
        doc = view.doc
        offsets = view.cleaned.offsets
        lo = _bisect_left(offsets, start)
        hi = _bisect_left(offsets, end)
        quote = view.cleaned.text[lo:hi]
        section = []
        for s in view.sentences:
            if view.cleaned.offsets[s.start] >= start:
                section = s.section
                break
        return Citation(doc.id, doc.title, list(section), start, end, quote)

    def sentence_citation(self, doc_id: str, i: int) -> Citation:
        view = self.kn.views[doc_id]
        s = view.sentences[i]
        start, end = view.span(s.start, s.end)
        c = self.citation(doc_id, start, end)
        c.section = list(s.section)
        return c

    def sentences_claim(self, doc_id: str, first: int, last: int) -> Claim:
        """One claim for sentences first..last of a report (a "；"-separated run reads as one)."""
        view = self.kn.views[doc_id]
        a, b = view.sentences[first], view.sentences[last]
        start, end = view.span(a.start, b.end)
        cite = self.citation(doc_id, start, end)
        cite.section = list(b.section)
        text = " ".join(_claim_text(view.sentences[i]) for i in range(first, last + 1))
        return Claim(text, [cite])

    def sentence_index(self, doc_id: str, start: int) -> int:
        view = self.kn.views[doc_id]
        for i, s in enumerate(view.sentences):
            if view.cleaned.offsets[s.start] >= start:
                return i
        return len(view.sentences) - 1

    # -- routes ---------------------------------------------------------------------------------

    def _metric(self, q: Question) -> Answer | None:
        docs = set(self.scope_docs(q))
        if q.half == "first":
            docs = {d for d in docs if self.docs[d].meta.get("kind") == "halfyear"} or docs
        rows = [m for m in self.kn.metrics if m["doc"] in docs and m["metric"] in q.metrics]
        if not rows:
            return self._factoid(q)
        claims, lead = [], []
        for code in q.metrics:
            for row in [r for r in rows if r["metric"] == code][:1]:
                region = self.docs[row["doc"]].meta.get("region", "")
                year = row["year"]
                label = row["label"]
                lead.append(f"{region}{year}年{'上半年' if row.get('report_kind') == 'halfyear' else ''}{label}："
                            f"{row['value']}")
                for sup in row["support"][:2]:
                    cite = self.citation(row["doc"], sup["start"], sup["end"])
                    claims.append(Claim(_clean_claim(cite.quote), [cite]))
        claims = _dedupe_claims(claims)
        return self._compose(q, "；".join(lead) + "。", claims)

    def _item(self, q: Question) -> Answer | None:
        groups = self.groups(q)
        return self._list_answer(q, groups, single_region=True)

    def _list(self, q: Question) -> Answer | None:
        return self._list_answer(q, self.groups(q), single_region=False)

    def _plan(self, q: Question) -> Answer | None:
        """What a report plans for a year (its plan part), and — when asked — where the same
        platforms stood in the report of the year before ("是否已获批")."""
        years = sorted(set(q.years))
        half = q.half in ("first", "second")
        plan_year = years[-1] if years else None
        status_year = years[0] if len(years) >= 2 else (plan_year if half else (plan_year - 1 if plan_year else None))
        region_docs = self._region_docs_all(q)
        if half and plan_year:
            plan_docs = [d for d in region_docs if self.docs[d].meta.get("year") == plan_year
                         and self.docs[d].meta.get("kind") == "halfyear"]
        elif plan_year:
            plan_docs = [d for d in region_docs if self.docs[d].meta.get("plan_year") == plan_year
                         and self.docs[d].meta.get("kind") != "halfyear"]
            plan_docs = plan_docs or [d for d in region_docs if self.docs[d].meta.get("plan_year") == plan_year]
        else:
            plan_docs = region_docs
        plan_docs = [d for d in plan_docs if any(s.part == "plan" for s in self.kn.views[d].sentences)]
        if not plan_docs:
            return self._section(q) if q.regions else None
        kinds = q.kinds or PLATFORM_KINDS
        plan_facts = [f for f in self.kn.facts if f["doc"] in plan_docs and f["part"] == "plan"
                      and f["kind"] in kinds and f["status"] in ("planned", "applied")
                      and (not q.level or f["level"] in (q.level, ""))
                      and (not q.names or any(_same_name(n, f["name"]) for n in q.names))]
        plan_claims = self._fact_claims(plan_facts)
        if not plan_claims:
            plan_claims = self._best_sentences(q, plan_docs, parts=("plan",), k=3)
        # Where the platforms stood in the report of the status year.
        status_lines, status_claims = [], []
        asks_status = bool(STATUS_Q.search(q.text) or re.search(r"是否|已获批|了吗|已有", q.text))
        if status_year and (asks_status or q.names):
            status_docs = [d for d in region_docs if self.docs[d].meta.get("year") == status_year]
            if half:
                status_docs = [d for d in status_docs if self.docs[d].meta.get("kind") == "halfyear"] or status_docs
            else:
                status_docs += self.mentioning_docs(q, status_year)
            named = list(q.names) or [f["name"] for f in plan_facts if not f["generic"]]
            for name in dict.fromkeys(named):
                found = [f for f in self.kn.facts if f["doc"] in status_docs and f["part"] != "plan"
                         and not f["generic"] and _same_name(name, f["name"])]
                statuses = {f["status"] for f in found}
                label = ("已获批" if "approved" in statuses else "已申报、尚未获批" if "applied" in statuses
                         else "报告中未见获批或申报的记载")
                status_lines.append(f"{name}：{status_year}年{'上半年' if half else ''}{label}")
                status_claims += self._fact_claims(found)
            if not q.names and q.level and asks_status:
                what = f"{LEVEL_CN[q.level]}{KIND_LABELS[kinds[0]] if len(kinds) == 1 else '平台'}"
                approved = [f for f in self.kn.facts if f["doc"] in status_docs and f["part"] != "plan"
                            and f["kind"] in kinds and f["level"] == q.level and f["status"] == "approved"
                            and (f["region"] in q.regions or f["doc_region"] in q.regions)]
                where = "、".join(q.regions)
                when = f"{status_year}年{'上半年' if half else ''}"
                if approved:
                    status_lines.insert(0, f"{where}{when}已获批{what}")
                    status_claims = self._fact_claims(approved) + status_claims
                else:
                    status_lines.insert(0, f"{where}{when}没有获批{what}的记载")
                    status_claims = self._negation_claims(status_docs, kinds, q.level) + status_claims
                    others = [f for f in self.kn.facts if f["doc"] in status_docs and f["part"] != "plan"
                              and f["level"] == q.level and f["status"] == "approved" and not f["generic"]
                              and f["kind"] not in kinds and f["kind"] != "listed_company"
                              and (f["region"] in q.regions or f["doc_region"] in q.regions)]
                    if others:
                        status_lines.append("同期获批的是" + "、".join(dict.fromkeys(
                            f"{f['name']}（{KIND_LABELS[f['kind']]}）" for f in others)))
                        status_claims += self._fact_claims(others)
        status_claims = _dedupe_claims(status_claims)
        plan_claims = [c for c in _dedupe_claims(plan_claims)
                       if all(c.citations[0].start != s.citations[0].start for s in status_claims)]
        where = "、".join(q.regions)
        when = "下半年" if half else (f"{plan_year}年" if plan_year else "")
        titles = "、".join(f"《{self.docs[d].title}》" for d in plan_docs)
        lead = ("；".join(status_lines) + "。\n") if status_lines else ""
        lead += f"{where}{when}的计划（据{titles}的计划部分，属于计划，不是已取得的成果）："
        groups = []
        if status_claims:
            groups.append(("现状依据：", status_claims))
        groups.append(("计划内容：", plan_claims))
        return self._compose(q, lead, [], groups=groups)

    def _fact_claims(self, facts: list[dict]) -> list[Claim]:
        seen, out = set(), []
        for f in facts:
            if (f["doc"], f["start"]) in seen:
                continue
            seen.add((f["doc"], f["start"]))
            cite = self.citation(f["doc"], f["start"], f["end"])
            out.append(Claim(_clean_claim(cite.quote), [cite]))
        return out

    def _negation_claims(self, doc_ids: list[str], kinds: list[str], level: str | None) -> list[Claim]:
        """Sentences that say the region has none ("全区尚无省级技术创新中心")."""
        out = []
        labels = [KIND_LABELS[k] for k in kinds]
        for d in doc_ids:
            view = self.kn.views[d]
            for i, s in enumerate(view.sentences):
                if re.search(r"尚无|没有|空白|实现零的突破", s.text) and any(l in s.text for l in labels) \
                        and (not level or LEVEL_CN[level][:1] in s.text) and not re.search(r"力争|争创", s.text):
                    out.append(self.sentences_claim(d, i, i))
        return out[:2]

    def _section(self, q: Question) -> Answer | None:
        docs = self.scope_docs(q)
        if q.half == "first":
            docs = [d for d in docs if self.docs[d].meta.get("kind") == "halfyear"] or docs
        if not docs:
            return None
        problems = bool(re.search(r"问题|不足|短板", q.text))
        part = "problems" if problems else ("plan" if PLAN_Q.search(q.text) else "achievement")
        topic = q.topic or ""
        claims = []
        for doc_id in docs[:2]:
            view = self.kn.views[doc_id]
            if part == "problems":
                idx = [i for i, s in enumerate(view.sentences) if s.part == "problems" and not is_heading(s)
                       and not re.search(r"存在的?问题|不足$", s.text)]
            elif not topic and not self.terms(q):
                idx = self._overview(doc_id, part)
            else:
                idx = self._topic_section(q, doc_id, topic, part)
            for first, last in _runs(view, idx[:10]):
                claims.append(self.sentences_claim(doc_id, first, last))
        claims = [c for c in claims if len(c.text) >= 6]
        if not claims:
            return None
        if self._weak(q, claims, docs):
            return None
        where = "、".join(q.regions)
        when = f"{q.year}年{'上半年' if q.half == 'first' else ''}" if q.year else ""
        what = "存在的问题" if problems else (f"在{topic}方面的工作" if topic else "相关工作")
        return self._compose(q, f"{where}{when}{what}（按报告原文顺序）：", claims)

    def _factoid(self, q: Question) -> Answer | None:
        docs = self.scope_docs(q)
        if q.half == "first":
            docs = [d for d in docs if self.docs[d].meta.get("kind") == "halfyear"] or docs
        extra = self.mentioning_docs(q) if q.regions else []
        if not docs and not extra:
            docs = sorted(self.docs)
        claims = self._best_sentences(q, docs + extra, parts=("achievement", "other", "problems"), k=2,
                                      must_mention=q.regions if not docs else None)
        if not claims or self._weak(q, claims, docs + extra):
            return None
        return self._compose(q, "", claims)

    def _passage(self, q: Question) -> Answer | None:
        hits = self.retriever.search(q.text, 5)
        if not hits:
            return None
        claims = []
        for h in hits[:3]:
            doc_id = h.chunk.doc
            view = self.kn.views[doc_id]
            idx = [i for i, s in enumerate(view.sentences)
                   if h.chunk.start <= view.cleaned.offsets[s.start] < h.chunk.end and not is_heading(s)]
            if not idx:
                continue
            best = max(idx, key=lambda i: _bigram_overlap(q.text, view.sentences[i].text))
            claims.append(self.sentences_claim(doc_id, best, best))
        claims = _dedupe_claims(claims)
        if not claims:
            return None
        return self._compose(q, "与这段表述最接近的原文：", claims)

    # -- list / item machinery -------------------------------------------------------------------

    def groups(self, q: Question) -> list[dict]:
        """Platforms of the kinds asked, one group per region and platform, with every mention."""
        kinds = q.kinds or PLATFORM_KINDS
        district_of_name: dict[tuple, str] = {}
        for f in self.kn.facts:
            if f["kind"] in kinds and not f["generic"] and self.kn.region_level.get(f["region"]) in ("district", "county"):
                district_of_name.setdefault((f["kind"], core_name(f["name"])), f["region"])
        groups: dict[tuple, dict] = {}
        for f in self.kn.facts:
            if f["kind"] not in kinds:
                continue
            doc_level = self.docs[f["doc"]].meta.get("level")
            if f["generic"] and (doc_level == "city" or not f["region"]):
                continue  # "全市省级技术创新中心达到5家" counts the districts' centres
            region = f["region"]
            if not f["generic"]:
                region = district_of_name.get((f["kind"], core_name(f["name"])), region)
            key = (region, f["kind"], f["level"], core_name(f["name"]) if not f["generic"] else "*" + f["doc"])
            g = groups.setdefault(key, {"region": region, "kind": f["kind"], "level": f["level"],
                                        "name": f["name"], "generic": f["generic"], "mentions": []})
            if len(f["name"]) > len(g["name"]) and not f["generic"]:
                g["name"] = f["name"]
            g["mentions"].append(f)
        # A named platform whose level one mention leaves open takes it from another mention.
        by_name: dict[tuple, list] = defaultdict(list)
        for key, g in groups.items():
            if not g["generic"]:
                by_name[(g["region"], g["kind"], key[3])].append(key)
        for keys in by_name.values():
            if len(keys) > 1:
                blank = [k for k in keys if not groups[k]["level"]]
                named = [k for k in keys if groups[k]["level"]]
                if blank and len(named) == 1:
                    for k in blank:
                        groups[named[0]]["mentions"] += groups.pop(k)["mentions"]
        out = list(groups.values())
        for g in out:
            g["mentions"].sort(key=lambda f: (f["report_time"], f["start"]))
            g["doc"] = g["mentions"][0]["doc"]
            g["city"] = self.kn.region_city.get(g["region"], "")
            g["province"] = Counter(f["province"] for f in g["mentions"] if f["province"]).most_common(1)
            g["province"] = g["province"][0][0] if g["province"] else ""
        return out

    def _in_scope(self, q: Question, g: dict) -> bool:
        if q.regions and g["region"] not in q.regions:
            # A city's own report also speaks for its districts ("东临省氢能材料重点实验室…获批建设").
            if not any(g["city"] == r and self.kn.region_level.get(r) == "city"
                       and any(f["doc_region"] == r for f in g["mentions"]) for r in q.regions):
                return False
        if q.city:
            if g["region"] == q.city:
                if not q.include_city:
                    return False
            elif g["city"] != q.city:
                return False
        if q.province and g["province"] != q.province:
            return False
        return True

    def _mentions_for(self, q: Question, g: dict, status: str) -> list[dict]:
        """Mentions that give this group the status asked about, in the year asked about."""
        ms = g["mentions"]
        if q.year:
            ms = [f for f in ms if f["year"] == q.year or f["report_year"] == q.year]
            if q.half == "first":
                ms = [f for f in ms if self.docs[f["doc"]].meta.get("kind") == "halfyear"] or ms
        approved_times = [f["report_time"] for f in g["mentions"] if f["status"] == "approved"]
        if status == "approved":
            return [f for f in ms if f["status"] == "approved"]
        if status == "applied":
            return [f for f in ms if f["status"] == "applied"
                    and not any(t <= f["report_time"] for t in approved_times)]
        if status == "planned":
            if any(f["status"] in ("approved", "applied") for f in g["mentions"]):
                return []
            return [f for f in ms if f["status"] == "planned"]
        return []

    def _list_answer(self, q: Question, groups: list[dict], single_region: bool) -> Answer | None:
        # Districts whose report never says which city they belong to cannot be counted for a
        # city; they are shown apart so that nothing is silently left out.
        city_province = q.province or next(iter(Counter(
            g["province"] for g in groups if q.city and g["city"] == q.city and g["province"]).most_common(1)), ("",))[0]
        unplaced = [g for g in groups if q.city and not g["city"] and not q.regions
                    and self.kn.region_level.get(g["region"]) in ("district", "county")
                    and g["province"] == city_province]
        groups = [g for g in groups if self._in_scope(q, g)]
        if q.names:
            named = [g for g in groups if any(_same_name(n, g["name"]) for n in q.names)]
            groups = named or groups
        want_level = q.level
        primary, aside = [], []
        for g in groups:
            level_ok = not want_level or g["level"] == want_level or (not g["level"] and q.names)
            order = [q.status] + [s for s in ("approved", "applied", "planned") if s != q.status]
            for status in order:
                ms = self._mentions_for(q, g, status)
                if not ms:
                    continue
                entry = (g, status, ms)
                if level_ok and status == q.status:
                    primary.append(entry)
                elif status != q.status or (g["level"] and want_level and g["level"] != want_level):
                    if g["level"] in (want_level, "city", "provincial", "national") or not want_level:
                        aside.append(entry)
                break  # one status per platform: the most advanced one
        # Only named platforms answer when a region has any; "省级重点实验室增至4家" only stands in
        # for a region whose report names none.
        primary = _prefer_named(primary)
        aside = [e for e in _prefer_named(aside) if not any(e[0] is p[0] for p in primary)]
        unplaced_entries = []
        for g in unplaced:
            ms = self._mentions_for(q, g, q.status)
            if ms and (not want_level or g["level"] == want_level):
                unplaced_entries.append((g, q.status, ms))
        unplaced_entries = _prefer_named(unplaced_entries)
        aside.sort(key=lambda e: ({"applied": 0, "planned": 1, "approved": 2}[e[1]], _region_order(e[0])))
        if not primary:
            # Refused; what the reports do say about these platforms is named in the refusal.
            self._aside_note = "；".join(self._item_of(g, st, ms, aside=True)[1].text for g, st, ms in aside[:6])
            return None
        primary.sort(key=lambda e: (_region_order(e[0]), e[2][0]["report_time"], e[2][0]["start"]))
        items, claims = [], []
        for g, status, ms in primary:
            item, claim = self._item_of(g, status, ms)
            items.append(item)
            claims.append(claim)
        if single_region:
            # One region: the item is named in the lead, and its sentences are the claims.
            lead_items = "；".join(c.text for c in claims)
            claims = _dedupe_claims([Claim(_clean_claim(c.quote), [c]) for it in items for c in it.citations])
        aside_claims = []
        for g, status, ms in unplaced_entries:
            _, claim = self._item_of(g, status, ms, aside=True)
            claim.text += f"——该报告未写明所属城市，无法确认是否属于{q.city}，未计入"
            aside_claims.append(claim)
        for g, status, ms in aside[:12]:
            _, claim = self._item_of(g, status, ms, aside=True)
            aside_claims.append(claim)
        regions = []
        for it in items:
            shown = it.region or f"未注明地区（{it.citations[0].doc}）"
            if shown not in regions:
                regions.append(shown)
        what = f"{LEVEL_CN.get(want_level or '', '')}{'、'.join(KIND_LABELS[k] for k in q.kinds[:3]) or '平台'}"
        if single_region:
            lead = (f"{'、'.join(q.regions) or ''}{q.year or ''}{'年' if q.year else ''}{STATUS_CN[q.status]}的{what}："
                    f"{lead_items}。依据：")
        else:
            lead = f"共{len(regions)}个地区{STATUS_CN[q.status]}{what}（据全部报告逐一核对）：{'、'.join(regions)}。"
        # The year each item was reported in is shown beside it (it is the report's, not the sentence's).
        suffixes = [] if single_region else [
            f"（{ms[0]['report_year']}年{'上半年' if self.docs[ms[0]['doc']].meta.get('kind') == 'halfyear' else ''}报告）"
            for _, _, ms in primary]
        return self._compose(q, lead, claims, items=items, aside=aside_claims, suffixes=suffixes)

    def _item_of(self, g: dict, status: str, ms: list[dict], aside: bool = False) -> tuple[Item, Claim]:
        seen, cites = set(), []
        for f in ms:
            if (f["doc"], f["start"]) in seen:
                continue
            seen.add((f["doc"], f["start"]))
            cites.append(self.citation(f["doc"], f["start"], f["end"]))
            if len(cites) >= 3:
                break
        first = ms[0]
        year = first["year"]
        name = first["name"]  # as written in the sentence it cites
        region = g["region"] or self.docs[first["doc"]].meta.get("region", "")
        item = Item(region=region, name=name, status=status, level=g["level"], year=year, kind=g["kind"],
                    citations=cites)
        display = name
        if g["generic"]:
            clause = _clause_with(first["quote"], first["name"], first.get("offset", -1))
            display = clause or name
        anonymous = bool(re.fullmatch(r"[Xx*]+[区县市]", region)) or not self.docs[first["doc"]].meta.get("region")
        where = f"{region or '未注明地区'}（{first['doc']}）" if anonymous else region
        level = LEVEL_CN.get(g["level"], "")
        label = STATUS_CN[status] if not aside else {"applied": "已申报、尚未获批", "planned": "计划争创",
                                                     "approved": f"已获批（{level}）" if level else "已获批"}[status]
        later = ""
        if status == "applied":
            approved = [f for f in g["mentions"] if f["status"] == "approved" and f["report_time"] > first["report_time"]]
            if approved:
                later = "；后续报告记载已获批"
                cites.append(self.citation(approved[0]["doc"], approved[0]["start"], approved[0]["end"]))
        # The claim says only what its sentences say: a date is shown when the sentence has it
        # ("2021年8月，…获准建设"); the report year is in the item and in the source list.
        date = first["date"] if first["date"] and first["date"] in first["quote"] else ""
        text = f"{where}：{display}（{label}{'，' + date if date else ''}{later}）"
        return item, Claim(text, cites)

    # -- sentences ---------------------------------------------------------------------------------

    def terms(self, q: Question) -> list[str]:
        drop = set(QUESTION_STOP)
        for r in q.regions + ([q.city] if q.city else []):
            drop.update(region_aliases(r))
        places = list(self.kn.region_level) + list(q.regions)
        text = re.sub(r"20\d\d\s*年", " ", q.text)
        for r in sorted(places, key=len, reverse=True):
            text = text.replace(r, " ")
        toks = [t for t in self.pipe.tokenizer(text) if t not in drop and not re.fullmatch(r"[\d.]+", t)
                and len(t) > 1 and not any(t in r for r in places)]
        return list(dict.fromkeys(toks))

    def _score_sentences(self, q: Question, doc_ids: list[str], parts) -> list[tuple[float, str, int, float]]:
        terms = self.terms(q)
        weights = {t: self.kn.idf_of(t) for t in terms}
        total = sum(weights.values()) or 1.0
        hits = []
        try:
            hits = self.retriever.search(q.text, 20, Filters(docs=set(doc_ids)), auto=False)
        except Exception:  # noqa: BLE001
            hits = []
        chunk_rank = {(h.chunk.doc, h.chunk.start): r for r, h in enumerate(hits)}
        out = []
        for doc_id in doc_ids:
            view = self.kn.views[doc_id]
            chunks = sorted(chunk_rank, key=lambda k: k[1])
            for i, s in enumerate(view.sentences):
                if s.part not in parts or is_heading(s):
                    continue
                toks = self.kn.sentence_tokens.get((doc_id, i), set())
                cover = sum(w for t, w in weights.items() if t in toks or t in s.text) / total
                orig = view.cleaned.offsets[s.start]
                rank = None
                for (d, cs) in chunks:
                    if d == doc_id and cs <= orig:
                        rank = chunk_rank[(d, cs)]
                bonus = 0.15 / (1 + rank) if rank is not None else 0.0
                bigram = _bigram_overlap(q.text, s.text)
                out.append((cover + bonus + 0.2 * bigram, doc_id, i, cover))
        out.sort(key=lambda x: -x[0])
        return out

    def _best_sentences(self, q: Question, doc_ids: list[str], parts, k: int = 2,
                        must_mention: list[str] | None = None) -> list[Claim]:
        scored = self._score_sentences(q, doc_ids, parts)
        if must_mention:
            scored = [s for s in scored if any(r in self.kn.views[s[1]].sentences[s[2]].text for r in must_mention)]
        if not scored:
            return []
        top = scored[0][0]
        claims = []
        for score, doc_id, i, cover in scored[:k * 3]:
            if len(claims) >= k or score < top * 0.8:
                break
            claims.append(self.sentences_claim(doc_id, i, i))
        return _dedupe_claims(claims)

    def _overview(self, doc_id: str, part: str) -> list[int]:
        """"滨海区2022年做了什么": the first sentence under each heading of the part, in order."""
        view = self.kn.views[doc_id]
        out, seen = [], set()
        for i, s in enumerate(view.sentences):
            if s.part != part or is_heading(s) or len(s.text) < 12 or s.text.strip() == view.doc.title:
                continue
            key = tuple(s.section[:2])
            if key not in seen:
                seen.add(key)
                out.append(i)
        return out[:10]

    def _topic_section(self, q: Question, doc_id: str, topic: str, part: str) -> list[int]:
        """Sentence indexes of the section that matches the topic of the question."""
        view = self.kn.views[doc_id]
        sub = Question(**{**q.__dict__, "text": topic or q.text})
        scored = self._score_sentences(sub if topic else q, [doc_id], (part, "other") if part != "achievement"
                                       else ("achievement", "other"))
        if not scored:
            return []
        best_i = scored[0][2]
        section = view.sentences[best_i].section
        topic_terms = [t for t in self.pipe.tokenizer(topic) if len(t) > 1] if topic else []
        # The heading of the best sentence that names the topic best decides the section (the
        # broader one on a tie: "（二）科技企业培育扎实推进" rather than its "一是高企培育…").
        depth, best_cover = None, 0.0
        weights = {t: self.kn.idf_of(t) for t in topic_terms}
        total = sum(weights.values()) or 1.0
        for d in range(len(section)):
            cover = sum(w for t, w in weights.items() if t in section[d]) / total
            if cover > best_cover + 1e-9 and re.match(r"[（(]?[一二三四五六七八九十\d]", section[d]) and d > 0 or (
                    cover > best_cover + 1e-9 and d == 0 and not re.search(r"工作|情况|总结|成效", section[d])):
                depth, best_cover = d, cover
        if depth is None:
            depth = len(section) - 1
        if depth < 0:
            return [best_i]
        head = section[: depth + 1]
        idx = [i for i, s in enumerate(view.sentences) if s.section[: depth + 1] == head and not is_heading(s)
               and s.part == view.sentences[best_i].part]
        if len(idx) > 8:  # a broad section: keep the sentences closest to the topic, in order
            keep = {i for _, d, i, _ in scored if i in idx}
            order = [i for _, d, i, _ in scored if i in keep][:8]
            idx = sorted(order)
        return idx

    def _weak(self, q: Question, claims: list[Claim], doc_ids: list[str] | None = None) -> bool:
        """True when even the best sentence leaves out what the question is about, or the
        reports searched never mention its most specific word ("国际" for 国际科技合作)."""
        terms = self.terms(q)
        if not terms:
            return False
        weights = {t: self.kn.idf_of(t) for t in terms}
        # A word the reports do use (not too rare corpus-wide) that none of the reports searched
        # contains: they are not about it. Compounds are judged by their parts.
        focus = [t for t, w in weights.items() if FOCUS_IDF[0] <= w <= FOCUS_IDF[1]
                 and not any(o != t and o in t for o in weights)]
        if doc_ids and focus:
            top = max(focus, key=weights.get)
            if not any(top in self.kn.views[d].cleaned.text for d in doc_ids):
                return True
        text = "".join(c.text + "".join(x.quote + "".join(x.section) for x in c.citations) for c in claims)
        covered = sum(w for t, w in weights.items() if t in text) / (sum(weights.values()) or 1)
        return covered < 0.34

    # -- composing ------------------------------------------------------------------------------

    def _compose(self, q: Question, lead: str, claims: list[Claim], *, items: list[Item] | None = None,
                 aside: list[Claim] | None = None, groups: list[tuple[str, list[Claim]]] | None = None,
                 suffixes: list[str] | None = None) -> Answer:
        numbers: dict[tuple, int] = {}

        def marks(cites: list[Citation]) -> str:
            out = []
            for c in cites:
                key = (c.doc, c.start, c.end)
                if key not in numbers:
                    numbers[key] = len(numbers) + 1
                out.append(f"[{numbers[key]}]")
            return "".join(dict.fromkeys(out))

        lines = [lead] if lead else []
        for n, c in enumerate(claims, start=1):
            extra = suffixes[n - 1] if suffixes and n <= len(suffixes) else ""
            lines.append(f"{n}. {c.text}{extra}{marks(c.citations)}" if len(claims) > 1
                         else f"{c.text}{extra}{marks(c.citations)}")
        for heading, group in groups or []:
            if group:
                lines.append(heading)
                lines += [f"{n}. {c.text}{marks(c.citations)}" for n, c in enumerate(group, start=1)]
                claims = claims + group
        aside = aside or []
        if aside:
            lines.append("另有（不属于上述答案，单列备查）：")
            for c in aside:
                lines.append(f"- {c.text}{marks(c.citations)}")
        sources = []
        for c in claims + aside:
            for cite in c.citations:
                n = numbers[(cite.doc, cite.start, cite.end)]
                if n > len(sources):
                    sources.append(f"[{n}]《{cite.title}》{_section_label(cite.section)}")
        if sources:
            lines.append("来源：" + "；".join(sources))
        return Answer(q.text, "\n".join(lines), refused=False, claims=claims + aside, items=items or [])

    def _region_docs_all(self, q: Question) -> list[str]:
        return sorted(d.id for d in self.docs.values() if d.meta.get("region") in q.regions)


# --------------------------------------------------------------------------------------------
# helpers


def _bisect_left(a: list[int], x: int) -> int:
    lo, hi = 0, len(a)
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _clean_claim(text: str) -> str:
    """A sentence as a claim: without its leading list marker ("一是", "（2）")."""
    text = re.sub(r"^(?:[一二三四五六七八九十]+是|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[、.．](?!\d)|[①-⑳])\s*", "", text)
    return text.strip()


def _claim_text(sent) -> str:
    """A sentence as a claim: without the headings glued to its start ("（四）聚力人才引育…一是")."""
    text = sent.text
    for _ in range(2):
        for t in sorted(sent.section, key=len, reverse=True):
            t = t.rstrip("。；;，, ")
            # Only a heading that ends there ("…活力一是实施"), not an item's first clause
            # ("（1）实施县级科技计划项目21项，安排资金…").
            if t and text.startswith(t) and len(text) > len(t) + 4 and text[len(t)] not in "，,、；;":
                text = text[len(t):].lstrip("。, ")
    return _clean_claim(text)


def _runs(view, idx: list[int]) -> list[tuple[int, int]]:
    """Consecutive sentences joined where one ends in "；" (they are one sentence of the report)."""
    runs: list[list[int]] = []
    for i in sorted(set(idx)):
        if runs and i == runs[-1][1] + 1 and view.sentences[runs[-1][1]].text.endswith(("；", ";")) \
                and view.sentences[i].section == view.sentences[runs[-1][1]].section:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return [(a, b) for a, b in runs]


def _dedupe_claims(claims: list[Claim]) -> list[Claim]:
    seen, out = set(), []
    for c in claims:
        key = tuple((x.doc, x.start, x.end) for x in c.citations)
        if key in seen:
            continue
        seen.add(key)
        out.append(c)
    return out


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"[\s，。；、：“”（）,.;:()]", "", text)
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _bigram_overlap(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x) if x else 0.0


def _same_name(asked: str, name: str) -> bool:
    a, b = core_name(asked), core_name(name)
    if b in KIND_LABELS.values() or a in KIND_LABELS.values():
        return False
    return a == b or (min(len(a), len(b)) >= 5 and (a in b or b in a))


def _clause_with(sentence: str, name: str, at: int = -1) -> str:
    i = at if 0 <= at < len(sentence) else sentence.find(name)
    if i < 0:
        return ""
    s = max(sentence.rfind(ch, 0, i) for ch in "，,；;：:") + 1
    ends = [j for j in (sentence.find(ch, i) for ch in "，,；;。") if j >= 0]
    e = min(ends) if ends else len(sentence)
    return _clean_claim(sentence[s:e])


def _prefer_named(entries: list) -> list:
    """Drop a generic entry when the same region has a named one of that kind, level and status."""
    named = {(g["region"], g["kind"], g["level"], st) for g, st, _ in entries if not g["generic"]}
    out, seen_generic = [], set()
    for g, st, ms in entries:
        if g["generic"]:
            key = (g["region"], g["kind"], g["level"], st)
            if key in named or key in seen_generic:
                continue
            seen_generic.add(key)
        out.append((g, st, ms))
    return out


def _region_order(g: dict) -> tuple:
    return (g.get("city", ""), g["region"])


def _section_label(section: list[str]) -> str:
    return " › ".join(s for s in section if s)


def numbers_in(text: str) -> list[str]:
    return NUMBER.findall(text)


def answer_question(pipe, question: str, filters: Filters | None = None) -> Answer:
    """The offline answer to one question (what Pipeline.ask runs without an LLM)."""
    return Answerer(pipe).ask(question, filters)
