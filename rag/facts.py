"""Facts table built at index time: innovation platforms and headline metrics, each with its span.

A *platform fact* is one mention of a platform in a report sentence — a technology innovation
centre, key lab, engineering centre, new-type R&D institution, academician workstation,
incubator, maker space, international cooperation base, or a listed company — with:

- kind and level (国家 / 省 / 市 / 区县), read from the name ("东临省…", "海川市…", "国家…") unless
  the sentence says otherwise ("…技术创新中心获批市级技术创新中心" is city-level whatever its name);
- status: approved (获批、获准、认定、成功创建…), applied (申报、已提交、等待批复…) or planned
  (争创、力争、谋划…, and anything new in the plan part of a report); an item already approved or
  applied for, mentioned again in a plan, keeps that status;
- region: the report's region, except in a city report, where a district or county named in the
  sentence before the item owns it ("南屏区辰光封测…先进封装技术创新中心获准建设" → 南屏区);
- start/end: the original-text span of the sentence that states it.

*Metrics* are the report's headline figures (有效高新技术企业、技术合同成交额…), value as written.

Everything is read from the cleaned text of the report; nothing is looked up anywhere else.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .clean import Cleaned, clean
from .types import Chunk, Document

FACTS_FILE = "facts.json"
FACTS_VERSION = 1

SENTENCE_END = "。！？；!?;"

# Platform kinds: code -> (Chinese label, suffix regex that ends a platform name).
KINDS: dict[str, tuple[str, str]] = {
    "tech_innovation_center": ("技术创新中心", r"技术创新中心"),
    "key_lab": ("重点实验室", r"重点实验室"),
    "engineering_center": ("工程技术研究中心", r"工程技术研究中心"),
    "new_rd_institution": ("新型研发机构", r"新型研发机构"),
    "academician_workstation": ("院士工作站", r"院士(?:专家)?工作站"),
    "incubator": ("科技企业孵化器", r"孵化器|孵化嚣"),
    "maker_space": ("众创空间", r"众创空间"),
    "intl_cooperation_base": ("国际科技合作基地", r"国际科技合作基地"),
    "listed_company": ("上市企业", r"(?!x)x"),  # found by its own patterns, see _listed
}
KIND_LABELS = {code: label for code, (label, _) in KINDS.items()}
KIND_RE = re.compile("|".join(f"(?P<{code}>{rx})" for code, (_, rx) in KINDS.items() if code != "listed_company"))
LEVEL_LABELS = {"national": "国家级", "provincial": "省级", "city": "市级", "district": "区县级", "": ""}
STATUS_LABELS = {"approved": "已获批", "applied": "已申报、待批", "planned": "计划争创"}

# Real provinces (plus anonymised "X"); fictional ones are learned from the corpus (see _provinces).
REAL_PROVINCES = set("""北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南
广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 X""".split())
# Characters that never start or end a province name but do precede 省 in running text
# ("获批省技术创新中心", "新增省级…", "居全省第…").
NOT_PROVINCE_CHARS = set("新增入选获批通过争创全市申报建一二三四五六七八九十是评取首家居区落实尚无于参加依托承担在培育送"
                         "完成派列进定得占心领域个我月经提交对接等待技强实均围为项向联合已配现有的和与及本该各外跨分")

LEVEL_WORD = r"(?:国家级|国家备案|国家|省级|省|市级|区级|县级)"
# A name is "generic" when nothing but level words / scope words precede its kind suffix.
GENERIC_PREFIX = re.compile(r"^(?:全市|全区|全县|我县|我区|我市|本区|本县|本市|各类|各级|新增|新建|新认定|累计|其中|共|"
                            r"市级以上|省级以上|国家级|国家备案|国家|省级|省|市级|市|区级|县级|首家|首个|一批|科技企业|"
                            r"第[\d一二三四五六七八九十]+家|[Xx*\d]+家|[Xx*]+[省市区县]|已建|已有|现有)*$")
# Words that end the text before a platform name (the name starts after the last of them).
NAME_STOPS = re.compile(
    r"[，,。；;、：:“”\"'‘’（）()《》【】\s—–\-·]|的|被认定为|认定为|评为|定为|建设|申报|争创|创建|获批|获准|组建|牵头|依托|推动|支持|指导|加快|推进|"
    r"联合|共建|成为|新建|建成|打造|培育|谋划|力争|争取|围绕|完成|启动|开展|实施|筹建|推荐|其中|实现|新增|认定|"
    r"首家|全力|积极|持续|加强|提升|高标准|高质量|[一二三四五六七八九十]是|聚焦|跟进|跟踪|做好|配合|编制|发挥|"
    r"引进|落地|对接|带动|依靠|深化|优化|扩大|入驻|培养|立项|获得|通过|以及|进入|这是|该|等|出台|制定|修订")
NAME_MAX = 30

APPROVE_RE = re.compile(r"获批|获准|批复|批准|认定|成功创建|创建成功|揭牌|获评|建成|完成建站|定名|挂牌|入选|零的突破|"
                        r"通过[^，。；]{0,12}(?:认定|备案|评审|验收|评估|评价)|投入运行|正式运行|落户")
WAIT_RE = re.compile(r"等待|待批|预计[^，。；]{0,8}(?:批复|获批)|评审中|正在(?:评审|论证|审查|审核)|处于[^，。；]{0,6}阶段|尚未获批|尚在|论证过程中|"
                     r"目前正在|答辩")
DONE_APPLY_RE = re.compile(r"已(?:于[^，。；]{0,6})?(?:正式)?(?:向[^，。；]{0,8})?(?:提交|报送|上报|申报)|申报材料|"
                           r"提交(?:建设)?申请|已获[^，。；]{0,6}推荐|通过[^，。；]{0,4}推荐|推荐上报|报送|辅导备案|受理")
PLAN_RE = re.compile(r"争创|力争|谋划|计划|拟|争取|筹建|筹划|尽快|早日|确保")
APPLY_RE = re.compile(r"申报|申请|推荐")
PROCESS_RE = re.compile(r"跟进|跟踪|评审|论证|迎评|现场考察|考察|准备")
NEGATION_RE = re.compile(r"尚无|没有|空白|缺少|缺乏|未能|未获|不足|偏少|偏低")
COUNT_PLAN_RE = re.compile(r"新增|新认定|新建|争创|力争|培育|以上|突破")
# Between a named platform and a generic phrase that restates its level, ending right before it:
# "A、B等5家单位获批|市级技术创新中心", "…获准建设，成为全市海洋领域首家|省级技术创新中心".
LINK_GAP_RE = re.compile(r"(?:获批|认定为|认定|获评|成为|创建|升级为|批准为|获准|入选|备案为|评为|定为|通过|这是|是)"
                         r"[^，,。；;、]{0,12}$")

HOLDER_VERB = re.compile(r"(?:争取|力争|积极|全力)?(?:被认定为|认定为|获批|获评|通过[^，。；]{0,8}(?:认定|备案)，?成为|"
                         r"通过|完成|成为|获得|入选|升级为|备案为|申报|争创|创建)$")
INSTITUTION_RE = re.compile(r"研究院|研究所|中心|实验室|基地|平台|孵化器|工作站|空间|工场")

# Listed companies.
LISTED_APPROVED = re.compile(r"(?:在|于)[^，。；]{0,20}(?:板|交易所|所)[^，。；]{0,6}?(?:成功)?上市|成功上市")
LISTED_APPLIED = re.compile(r"上市辅导备案|上市申请|上市辅导期|辅导备案")
LISTED_PLANNED = re.compile(r"上市后备|启动上市|上市前|加快[^，。；]{0,8}上市|提交上市申请|上市进程|上市步伐|新增上市企业")
COMPANY_LEAD = re.compile(r"^(?:[一二三四五六七八九十]是|其中|另有|全年|上半年|年内|推动|支持|加快|鼓励|助推|指导|\d{1,2}月|"
                          r"[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．])+")

# Metrics: code -> (label, regex with a named group "value"); first match in document order wins
# (the opening summary), and every sentence stating the same value is kept as support.
V = r"(?P<value>(?:[\dXx*]+(?:[.,][\dXx*]+)*)(?:万)?)"
METRICS: dict[str, tuple[str, list[str]]] = {
    "high_tech_enterprises": ("有效高新技术企业", [
        rf"(?<!新认定)(?<!认定)(?<!新增)(?<!申报)(?<!培育)有效高新技术企业(?:总数|总量)?(?:达到|达|为|增至|突破|共)?{V}家",
        rf"(?<!新认定)(?<!认定)(?<!新增)(?<!申报)(?<!培育)(?:全县|全区|全市)高新技术企业(?:总数|总量)?(?:达到|达|为|增至|共)?{V}家"]),
    "sci_tech_smes": ("科技型中小企业评价入库", [
        rf"{V}家企业(?:通过|完成)(?:国家)?科技型中小企业评价入库",
        rf"科技型中小企业(?:评价)?入库(?:达到|数量达到)?{V}家",
        rf"评价入库{V}家"]),
    "tech_contract_turnover": ("技术合同成交额", [
        rf"技术合同(?:登记)?(?:成交额|登记额)(?:达到|为|突破)?{V}亿元",
        rf"合同成交额{V}亿元"]),
    "rd_spending": ("研发投入", [
        rf"全社会研发(?:经费)?投入(?:预计)?(?:达到)?{V}亿元",
        rf"R&D经费支出(?:预计)?(?:达到)?{V}亿元",
        rf"(?<!带动企业)(?<!带动)(?<!撬动)研发投入(?:预计)?(?:达到)?{V}亿元",
        rf"研发费用{V}亿元"]),
    "patents_granted": ("专利授权量", [rf"(?<!发明)专利授权(?:量)?(?:达到)?{V}件"]),
    "invention_patents": ("发明专利授权量", [rf"发明专利授权(?:量)?(?:达到)?{V}件"]),
    "incubators_total": ("孵化载体数量", [
        rf"(?<!国家级)(?:孵化载体|孵化器和众创空间|孵化嚣和众创空间)(?:总数)?(?:达到|共)?{V}家"]),
}
METRIC_LABELS = {code: label for code, (label, _) in METRICS.items()}
METRIC_RES = {code: [re.compile(p) for p in pats] for code, (_, pats) in METRICS.items()}


# --------------------------------------------------------------------------------------------
# Sentences of one report, with their part (achievement / plan / problems) and section.


@dataclass
class Sentence:
    start: int  # cleaned offsets
    end: int
    text: str
    part: str
    section: list[str]


@dataclass
class DocView:
    """A report's cleaned text cut into sentences, each knowing its part and section."""
    doc: Document
    cleaned: Cleaned
    sentences: list[Sentence] = field(default_factory=list)

    @classmethod
    def build(cls, doc: Document, cleaned: Cleaned | None, chunks: list[Chunk]) -> "DocView":
        cleaned = cleaned or clean(doc.text)
        view = cls(doc, cleaned)
        chunks = sorted((c for c in chunks if c.doc == doc.id), key=lambda c: c.start)
        text = cleaned.text
        default = "plan" if doc.meta.get("kind") == "plan" else "achievement"
        ci = 0
        for s, e in split_sentences(text):
            # A sentence belongs to the chunk holding its last character: a heading glued to the
            # sentence it introduces ("（四）聚力人才引育…一是实施…") is not in any chunk itself.
            orig = cleaned.offsets[e - 1]
            while ci + 1 < len(chunks) and chunks[ci + 1].start <= orig:
                ci += 1
            c = chunks[ci] if chunks and chunks[ci].start <= orig else None
            if c is not None and orig >= c.end and ci + 1 < len(chunks):
                c = chunks[ci + 1]  # a heading line between chunks introduces the next one
            elif c is None and chunks and cleaned.offsets[s] < chunks[0].start and e < len(text) and \
                    chunks[0].start - orig < 80 and text[s:e].strip()[:1] in "一二三四五六七八九十（(第0123456789":
                c = chunks[0]
            part = c.part if c else default
            view.sentences.append(Sentence(s, e, text[s:e], part, list(c.section) if c else []))
        return view

    def span(self, s: int, e: int) -> tuple[int, int]:
        """Original [start, end) of cleaned [s, e)."""
        return self.cleaned.span(s, e)


CJK = re.compile(r"[\u4e00-\u9fa5]")
OCR_STOP_BEFORE = re.compile(r"[\u4e00-\u9fa5\dxX%*]")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Cleaned [start, end) of each sentence: cut after 。！？；, at line breaks; blanks trimmed."""
    out = []
    start = 0
    n = len(text)
    for i, ch in enumerate(text):
        # OCR turns 。 into "o" between Chinese characters ("居全市第x位o金穗生物在…").
        ocr_stop = ch == "o" and 0 < i < n - 1 and OCR_STOP_BEFORE.match(text[i - 1]) and CJK.match(text[i + 1])
        if ch in SENTENCE_END or ch == "\n" or i == n - 1 or ocr_stop:
            end = i + 1 if ch != "\n" else i
            s, e = start, end
            while s < e and text[s] in " \n":
                s += 1
            while e > s and text[e - 1] in " \n":
                e -= 1
            if e - s >= 2:
                out.append((s, e))
            start = i + 1
    return out


HEADING_MARK = re.compile(r"^[一二三四五六七八九十]+是")


def is_heading(sent: Sentence) -> bool:
    """A sentence that is just the title of its section ("（1）省级重点实验室再添新军。")."""
    text = sent.text.rstrip("。；;，, ")
    # An item that is one clause ending in "；" is content, even when the chunker titled it by itself.
    if not sent.text.endswith(("；", ";")):
        rest = text
        for t in sorted(sent.section, key=len, reverse=True):
            t = t.rstrip("。；;，, ")
            if t and t in rest:
                rest = rest.replace(t, "", 1)
        if len(rest.strip(" ，,。")) <= 2 and rest != text:
            return True
    # An inline "三是新型研发机构加快布局。" that the chunker did not take for a heading.
    return bool(HEADING_MARK.match(text)) and len(text) <= 16 and not re.search(r"\d", text[2:])


def quote_of(doc_text: str, start: int, end: int, cleaned: Cleaned | None = None) -> str:
    """The cleaned text of original [start, end): cleaned characters whose source lies in the range."""
    cleaned = cleaned or clean(doc_text)
    return "".join(ch for ch, o in zip(cleaned.text, cleaned.offsets) if start <= o < end)


# --------------------------------------------------------------------------------------------
# Platform mentions.


@dataclass
class Mention:
    kind: str
    name: str
    generic: bool
    level: str
    name_start: int  # offsets within the sentence text
    name_end: int
    status: str = ""
    holder: str = ""
    region: str = ""
    linked: bool = False  # a generic phrase that only restates a named mention's level


def _provinces(texts: list[str]) -> set[str]:
    """Province names: the real ones, plus stems that start platform or institute names
    ("东临省海洋生物医药技术创新中心", "东临省农业科学院") at least twice."""
    counts: Counter = Counter()
    for t in texts:
        counts.update(PROVINCE_NAME_RE.findall(t))
    learned = {s for s, n in counts.items() if n >= 2 and not (set(s) & NOT_PROVINCE_CHARS)}
    return REAL_PROVINCES | learned


PROVINCE_NAME_RE = re.compile(
    r"([\u4e00-\u9fa5]{2})省(?!级)[\u4e00-\u9fa5]{2,20}?(?:技术创新中心|重点实验室|工程技术研究中心|国际科技合作基地|"
    r"科学院|研究院|研究所|科技厅|大学)")


def _province_re(provinces: set[str]) -> re.Pattern:
    names = sorted(provinces, key=len, reverse=True)
    return re.compile("(?:" + "|".join(re.escape(p) for p in names) + ")省")


class Extractor:
    """Reads platform facts and metrics from every report of a corpus."""

    def __init__(self, views: list[DocView]):
        self.views = views
        metas = [v.doc.meta for v in views]
        self.cities = sorted({m.get("region", "") for m in metas if m.get("level") == "city"} - {""})
        self.districts = sorted({m.get("region", "") for m in metas
                                 if m.get("level") in ("district", "county")} - {""}, key=len, reverse=True)
        self.provinces = _provinces([v.cleaned.text for v in views])
        self.province_re = _province_re(self.provinces)
        city_names = sorted(set(self.cities) | {c for m in metas for c in [m.get("city", "")] if c}, key=len, reverse=True)
        anchors = [self.province_re.pattern, r"国家", r"全国", r"省级", r"(?<![全本我该外各跨分])省(?!级)", r"市级", r"区级", r"县级"]
        if city_names:
            anchors.append("|".join(re.escape(c) for c in city_names))
        self.anchor_re = re.compile("|".join(f"(?:{a})" for a in anchors))
        self.district_re = re.compile("|".join(re.escape(d) for d in self.districts)) if self.districts else None

    # -- public ------------------------------------------------------------------------------

    def run(self) -> dict:
        facts, metrics = [], []
        pending = []  # (view, sentence, mention) in plan parts, resolved after all other parts
        for view in self.views:
            for sent in view.sentences:
                mentions = self.mentions(sent.text, view)
                heading = is_heading(sent)
                for m in mentions:
                    if heading and m.generic:
                        continue  # "一是全力争创省级技术创新中心。" only announces what follows
                    if sent.part == "plan" and view.doc.meta.get("kind") != "plan":
                        pending.append((view, sent, m))
                        continue
                    m.status = self.status(sent.text, m, sent.part, mentions)
                    if m.status:
                        facts.append(self._row(view, sent, m))
            metrics.extend(self.metrics(view))
        known = self._known(facts)
        for view, sent, m in pending:
            m.status = self.plan_status(sent.text, m, view, known)
            if m.status:
                facts.append(self._row(view, sent, m))
        self._fill_provinces(facts)
        facts.sort(key=lambda f: (f["doc"], f["start"], f["name_start"]))
        return {"version": FACTS_VERSION, "facts": facts, "metrics": metrics,
                "provinces": sorted(self.provinces)}

    # -- mentions ----------------------------------------------------------------------------

    def mentions(self, text: str, view: DocView) -> list[Mention]:
        found: list[Mention] = []
        for km in KIND_RE.finditer(text):
            kind = km.lastgroup
            ns = self._name_start(text, km.start())
            name = text[ns:km.end()]
            prefix = name[: km.start() - ns]
            generic = bool(GENERIC_PREFIX.match(prefix) or re.search(r"一家|首家|首个|唯一|第[\d一二三四五六七八九十]+家", prefix))
            found.append(Mention(kind, name, generic, self._name_level(name), ns, km.end()))
        found = [m for m in found if not self._inside_other(m, found)
                 and text.rfind("《", 0, m.name_start) <= text.rfind("》", 0, m.name_start)
                 and not re.match(r"(?:建设)?(?:管理|认定|实施|评价)?办法", text[m.name_end:])]
        self._link(text, found)
        self._holders(text, found)
        found.extend(self._listed(text))
        found.sort(key=lambda m: m.name_start)
        doc_region = view.doc.meta.get("region", "")
        for m in found:
            m.region = self._region(text, m, view) or doc_region
        return [m for m in found if not m.linked]

    def _name_start(self, text: str, suffix_start: int) -> int:
        lo = max(0, suffix_start - NAME_MAX)
        window = text[lo:suffix_start]
        # Never cross a clause boundary.
        cut = max(window.rfind(ch) for ch in "，,。；;：:“”\"（）()《》、 ")
        if cut >= 0:
            lo, window = lo + cut + 1, window[cut + 1:]
        anchors = list(self.anchor_re.finditer(window))
        stops = list(NAME_STOPS.finditer(window))
        # A name starts at its province / city / level prefix, or else after the last verb or
        # particle before it ("依托…共建的|东临省…", "获批|市级…", "支持康华药业…共建|创新药物…").
        start = max(anchors[-1].start() if anchors else 0, stops[-1].end() if stops else 0)
        return lo + start

    def _name_level(self, name: str) -> str:
        if re.match(r"国家|全国", name):
            return "national"
        if self.province_re.match(name) or re.match(r"省", name):
            return "provincial"
        if re.match(r"市级|市(?!场)", name) or any(name.startswith(c) for c in self.cities):
            return "city"
        if re.match(r"[\u4e00-\u9fa5]{2}市", name) and not re.match(r"[\u4e00-\u9fa5]{2}市场", name):
            return "city"
        if re.match(r"区级|县级", name):
            return "district"
        return ""

    @staticmethod
    def _inside_other(m: Mention, found: list[Mention]) -> bool:
        """"东临省黄精工程技术研究中心" also ends in no other kind, but "…孵化器" inside a longer name would."""
        return any(o is not m and o.name_start <= m.name_start and m.name_end <= o.name_end
                   and (o.name_end - o.name_start) > (m.name_end - m.name_start) for o in found)

    def _link(self, text: str, found: list[Mention]) -> None:
        """A generic phrase right after (or before) a named one of the same kind gives its level."""
        for i, g in enumerate(found):
            if not g.generic:
                continue
            # Named mention(s) before: "A、B获批市级技术创新中心", "…中心通过省科技厅评审，成功创建省级技术创新中心".
            for n in reversed(found[:i]):
                if n.generic or n.kind != g.kind:
                    continue
                gap = text[n.name_end:g.name_start]
                if (len(gap) <= 45 and not re.search(r"[。；;]", gap) and LINK_GAP_RE.search(gap)
                        and not re.search(r"全市|全区|全县|累计|达到|总数", gap[-6:])):
                    g.linked = True
                    if g.level and (not n.level or re.search(r"(获批|认定为|评为|成为)[^，。；]{0,8}$", gap)):
                        n.level = g.level
                    for other in found[:i]:  # siblings in the same list share the level
                        if (not other.generic and other.kind == g.kind and other.name_end <= g.name_start
                                and n.name_start > other.name_start
                                and re.fullmatch(r"[、和及与]|等", text[other.name_end:other.name_end + 1] or "x")):
                            other.level = other.level or n.level
                    break
            # Named mention right after: "成功创建省级技术创新中心——东临省工业软件技术创新中心".
            nxt = next((n for n in found[i + 1:] if n.kind == g.kind and not n.generic), None)
            if nxt is not None:
                gap = text[g.name_end:nxt.name_start]
                if len(gap) <= 3 and not re.search(r"[。；;，,、]", gap):
                    g.linked = True
                    nxt.level = nxt.level or g.level

    def _holders(self, text: str, found: list[Mention]) -> None:
        """Who holds a generic platform: "康源食品、禾美食品3家企业获批市级技术创新中心".

        When the holders are themselves institutions ("…研究院被认定为省级新型研发机构",
        "…育种中心获批市级技术创新中心"), they become named mentions of that kind.
        """
        extra = []
        for g in found:
            if not g.generic or g.linked:
                continue
            before = text[:g.name_start]
            vm = HOLDER_VERB.search(before)
            if not vm:
                continue
            clause_start = max(before.rfind(ch, 0, vm.start()) for ch in "，,。；;：:") + 1
            subject = text[clause_start:vm.start()]
            if not subject.strip() and clause_start > 0:
                # "县政府…共建禾阳种业研究院，被认定为市级新型研发机构": the previous clause names it.
                prev_start = max(before.rfind(ch, 0, clause_start - 1) for ch in "，,。；;：:") + 1
                prev = text[prev_start:clause_start - 1]
                inst = list(INSTITUTION_RE.finditer(prev))
                if not inst:
                    continue
                end = inst[-1].end()
                s = self._name_start(prev, inst[-1].start())
                subject, clause_start = prev[s:end], prev_start + s
            lead = COMPANY_LEAD.match(subject)
            if lead:
                subject, clause_start = subject[lead.end():], clause_start + lead.end()
            subject = re.sub(r"(等)?[\dXx*]+家(单位|企业)?$|等$", "", subject).strip()
            if not subject or len(subject) > 40:
                continue
            g.holder = subject
            parts = [p for p in re.split(r"[、和]", subject) if p]
            if not all(INSTITUTION_RE.search(p) and INSTITUTION_RE.search(p).end() == len(p) for p in parts):
                continue
            pos = clause_start
            for part in parts:
                p = text.find(part, pos)
                suffix = INSTITUTION_RE.search(part)
                ns = p + self._name_start(part, suffix.start())
                pos = p + len(part)
                same = [o for o in found if o.kind == g.kind and not o.generic and o.name_start < pos and ns < o.name_end]
                if same:  # "龙泉氢能产业园孵化器争创国家级科技企业孵化器": the level it is going for
                    for o in same:
                        o.level = g.level or o.level
                    continue
                extra.append(Mention(g.kind, text[ns:pos], False, g.level or self._name_level(text[ns:pos]), ns, pos))
            g.linked = True
        found.extend(extra)

    def _listed(self, text: str) -> list[Mention]:
        matches: list[tuple[int, int, str]] = []
        for rx, status in ((LISTED_APPLIED, "applied"), (LISTED_PLANNED, "planned"), (LISTED_APPROVED, "approved")):
            for m in rx.finditer(text):
                if not any(a < m.end() and m.start() < b for a, b, _ in matches):
                    matches.append((m.start(), m.end(), status))
        out = []
        for ms, _, status in sorted(matches):
            clause_start = max(text.rfind(ch, 0, ms) for ch in "，,。；;：:") + 1
            raw = text[clause_start:ms]
            subject = re.split(r"在|于|完成|成功|进入|启动|已获|的|科创板|年内|尽快", raw)[0]
            if len(subject.strip()) < 2 and clause_start > 1:
                # "丰谷种业完成股份制改造，已在…办理上市辅导备案": the previous clause names it.
                prev_start = max(text.rfind(ch, 0, clause_start - 1) for ch in "，,。；;：:") + 1
                raw = text[prev_start:clause_start - 1]
                clause_start = prev_start
                subject = re.split(r"在|于|完成|成功|进入|启动|已获|的|科创板|年内|尽快", raw)[0]
            subject = COMPANY_LEAD.sub("", subject).strip()
            subject = re.sub(r"(等)?[\dXx*]+家(以上)?(科技型?)?(企业)?$|等(企业)?$", "", subject).strip()
            if not subject or len(subject) > 30 or re.search(r"企业$|全市|全区|全县|科技型|^新增", subject):
                pos = ms
                names, generic = [("上市企业", ms)], True
            else:
                pos = clause_start + raw.find(subject)
                names, generic = [], False
                for part in re.split(r"[、和]", subject):
                    if part:
                        names.append((part, text.find(part, pos)))
            for name, p in names:
                men = Mention("listed_company", name, generic, "", p, p + len(name))
                men.status = status  # read from the pattern itself
                out.append(men)
        return out

    def _region(self, text: str, m: Mention, view: DocView) -> str:
        """In a city report, the district or county named in the sentence before the item."""
        if view.doc.meta.get("level") != "city" or self.district_re is None:
            return ""
        hits = [h for h in self.district_re.finditer(text, 0, m.name_start)]
        return hits[-1].group(0) if hits else ""

    # -- status ------------------------------------------------------------------------------

    @staticmethod
    def _clause(text: str, m: Mention) -> tuple[int, int]:
        s = max(text.rfind(ch, 0, m.name_start) for ch in "，,：:") + 1
        e = min([i for i in (text.find(ch, m.name_end) for ch in "，,") if i >= 0] + [len(text)])
        return s, e

    def status(self, text: str, m: Mention, part: str, mentions: list[Mention] | None = None) -> str:
        """Status in an achievement / problems / other part (the plan part: plan_status)."""
        if m.status:
            return m.status
        cs, ce = self._clause(text, m)
        before = text[cs:m.name_start]
        after = text[m.name_end:self._scope_end(text, m, mentions or [])]
        ce = min(ce, m.name_end + len(after))
        if m.generic and (NEGATION_RE.search(text[cs:ce]) or part == "problems"):
            return ""
        if WAIT_RE.search(after) or DONE_APPLY_RE.search(after) or DONE_APPLY_RE.search(before):
            return "applied"
        if PLAN_RE.search(before) or PLAN_RE.search(text[m.name_end:ce]):
            return "planned"
        if APPLY_RE.search(before) or APPLY_RE.search(text[m.name_end:ce]):
            return "applied"
        return "approved"

    @staticmethod
    def _scope_end(text: str, m: Mention, mentions: list[Mention]) -> int:
        """Where the words about this mention end: at the next platform the sentence turns to
        ("以东临省功率半导体技术创新中心为核心…申报国家第三代半导体技术创新中心，已报送…")
        — unless it is the next item of the same list ("A、B已提交申请")."""
        prev = m
        for o in sorted(mentions, key=lambda x: x.name_start):
            if o.name_start <= prev.name_start or o is m:
                continue
            if re.fullmatch(r"\s*(?:[、和及与]|等)?\s*", text[prev.name_end:o.name_start]) and o.kind == m.kind:
                prev = o
                continue
            return o.name_start
        return len(text)

    def plan_status(self, text: str, m: Mention, view: DocView, known: dict) -> str:
        """Status of a mention in the plan part: what was already approved or applied for keeps
        that status; anything else is planned."""
        cs, ce = self._clause(text, m)
        clause = text[cs:ce]
        before = text[cs:m.name_start]
        year = report_time(view.doc.meta)
        regions = [r for r in (m.region, view.doc.meta.get("region", "")) if r]

        def had(status: str, key_tail: tuple) -> bool:
            return any(known.get((r, m.kind) + key_tail, {}).get(status, 10 ** 4) <= year for r in regions)

        if m.kind == "listed_company":
            if m.status == "approved":
                return "approved" if not m.generic and had("approved", (core_name(m.name),)) else "planned"
            return m.status
        if m.generic:
            if NEGATION_RE.search(clause):
                return ""
            level_key = (m.level + "*",)
            if re.search(r"已建|已有|现有|依托", before):
                return "approved"
            if COUNT_PLAN_RE.search(before) or re.match(r"\s*[\dXx*]+家", text[m.name_end:]):
                return "planned"
            if had("approved", level_key):
                return "approved"
            return "applied" if had("applied", level_key) and PROCESS_RE.search(clause) else "planned"
        core = (core_name(m.name),)
        known_level = next((known[(r, m.kind) + core].get("level", "") for r in regions
                            if (r, m.kind) + core in known), None)
        if known_level is not None and m.level and m.level != known_level and (
                PLAN_RE.search(text[cs:]) or APPLY_RE.search(text[cs:])):
            return "planned"  # going for a higher level ("…研究院争创省级新型研发机构")
        if not m.level and known_level:
            m.level = known_level
        if had("approved", core):
            return "approved"
        if had("applied", core):
            if PROCESS_RE.search(clause) and not re.search(r"(争取|力争|推动)[^，。；]{0,30}获批", clause):
                return "applied"
            return "planned"
        return "planned"

    def _known(self, facts: list[dict]) -> dict:
        """What non-plan mentions say: (region, kind, core name) and (region, kind, level*) ->
        {status: first year, "level": level}."""
        known: dict = {}
        for f in facts:
            keys = [(f["level"] + "*",)]
            if not f["generic"]:
                keys.append((core_name(f["name"]),))
            for region in {f["region"], f["doc_region"]}:
                for tail in keys:
                    entry = known.setdefault((region, f["kind"]) + tail, {})
                    entry[f["status"]] = min(entry.get(f["status"], 10 ** 4), f["report_time"])
                    if not tail[0].endswith("*"):
                        entry.setdefault("level", f["level"])
        return known

    def _row(self, view: DocView, sent: Sentence, m: Mention) -> dict:
        meta = view.doc.meta
        start, end = view.span(sent.start, sent.end)
        in_plan = sent.part == "plan" and meta.get("kind") != "plan"
        year = meta.get("year")
        if in_plan and m.status == "planned":
            year = meta.get("plan_year") or ((year + 1) if year else None)
        date = re.search(r"(20\d\d年)?\d{1,2}月", sent.text)
        return {
            "doc": view.doc.id, "title": view.doc.title, "region": m.region or meta.get("region", ""),
            "doc_region": meta.get("region", ""), "city": meta.get("city", ""),
            "province": self.province_of(m.name) or self.doc_province(view),
            "year": year, "report_year": meta.get("year"), "report_time": report_time(meta),
            "part": sent.part, "section": sent.section,
            "kind": m.kind, "kind_label": KIND_LABELS[m.kind], "level": m.level, "status": m.status,
            "name": m.name, "generic": m.generic, "holder": m.holder,
            "date": date.group(0) if date else "",
            "start": start, "end": end, "name_start": sent.start + m.name_start, "offset": m.name_start,
            "quote": sent.text,
        }

    @staticmethod
    def _fill_provinces(facts: list[dict]) -> None:
        """A report that never names its province shares the one of its region's or city's reports."""
        by_place: dict[str, Counter] = {}
        for f in facts:
            if f["province"]:
                for place in (f["region"], f["doc_region"], f["city"]):
                    if place:
                        by_place.setdefault(place, Counter())[f["province"]] += 1
        for f in facts:
            if not f["province"]:
                for place in (f["region"], f["doc_region"], f["city"]):
                    if place in by_place:
                        f["province"] = by_place[place].most_common(1)[0][0]
                        break

    def province_of(self, name: str) -> str:
        m = self.province_re.match(name)
        return m.group(0)[:-1] if m else ""

    def doc_province(self, view: DocView) -> str:
        cached = getattr(view, "_province", None)
        if cached is None:
            counts = Counter(m.group(0)[:-1] for m in self.province_re.finditer(view.cleaned.text))
            cached = counts.most_common(1)[0][0] if counts else ""
            view._province = cached  # type: ignore[attr-defined]
        return cached

    # -- metrics -----------------------------------------------------------------------------

    def metrics(self, view: DocView) -> list[dict]:
        rows = []
        meta = view.doc.meta
        for code, patterns in METRIC_RES.items():
            first = None
            support = []
            for rx in patterns:
                for sent in view.sentences:
                    if sent.part in ("plan", "problems"):
                        continue
                    m = rx.search(sent.text)
                    if not m:
                        continue
                    value = _unit_value(sent.text, m)
                    if first is None:
                        first = (sent, m, value)
                    if value == first[2] and all(s is not sent for s, _ in support):
                        support.append((sent, m))
                if first is not None:
                    break
            if first is None:
                continue
            sent, m, value = first
            start, end = view.span(sent.start, sent.end)
            rows.append({
                "doc": view.doc.id, "title": view.doc.title, "region": meta.get("region", ""),
                "city": meta.get("city", ""), "year": meta.get("year"), "report_kind": meta.get("kind", ""),
                "metric": code, "label": METRIC_LABELS[code], "value": value,
                "start": start, "end": end, "quote": sent.text,
                "support": [dict(zip(("start", "end"), view.span(s.start, s.end)), quote=s.text)
                            for s, _ in support],
            })
        return rows


def report_time(meta: dict) -> float:
    """When a report speaks: a half-year report of 2024 comes before the 2024 annual report."""
    year = meta.get("year") or 0
    return year + (0.5 if meta.get("kind") == "halfyear" else 1.0)


def _unit_value(text: str, m: re.Match) -> str:
    """'412家', '51.3亿元', '1.62万件': the value with its unit, as written."""
    unit = re.match(r"万?件|亿元|万元|家", text[m.end("value"):])
    return m.group("value") + (unit.group(0) if unit else "")


def is_generic_name(name: str) -> bool:
    """"国家级科技企业孵化器", "省级技术创新中心": a kind with level words only, no proper name."""
    m = None
    for m in KIND_RE.finditer(name):
        pass
    if m is None or m.end() != len(name):
        return False
    prefix = name[: m.start()]
    return bool(GENERIC_PREFIX.match(prefix)) or prefix in ("科技企业",)


def core_name(name: str) -> str:
    """A platform name without its province prefix, for matching mentions of one platform
    ("省高端医疗器械技术创新中心" = "东临省高端医疗器械技术创新中心"; "国家…" stays apart)."""
    core = re.sub(r"^(?:[\u4e00-\u9fa5]{2}|[Xx*]{1,2})省(?=[\u4e00-\u9fa5])", "", name)
    core = re.sub(r"^(?:省级|省)", "", core)
    return core.strip("“”\"")


def build_facts(prepared) -> dict:
    """The facts table of a prepared corpus (list of rag.ingest.Prepared)."""
    views = [DocView.build(p.doc, p.cleaned, p.chunks) for p in prepared]
    return Extractor(views).run()


def facts_from_index(index) -> dict:
    """Rebuild the table from a stored index (for indexes built before facts.json existed)."""
    by_doc: dict[str, list[Chunk]] = {}
    for c in index.chunks:
        by_doc.setdefault(c.doc, []).append(c)
    views = [DocView.build(d, None, by_doc.get(d.id, [])) for d in index.docs.values()]
    return Extractor(views).run()
