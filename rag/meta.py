"""Metadata read from a report's own text: region, city, level, years, kind.

Real files are named like `000_b996cbb5c34144bc.txt`, so the title line and the opening
paragraph are the source; the file name is only a fallback.
"""
from __future__ import annotations

import re
from collections import Counter

LEVELS = {"区": "district", "县": "county", "市": "city"}
# A region name: 2–3 CJK characters, or an anonymised X/xx/** stem, then 区/县/市.
REGION_BEFORE_BUREAU = re.compile(r"([\u4e00-\u9fa5]{1,4}|[Xx*]{1,4})([区县市])(?:科学技术局|科技局)")
NAME_BOUNDARY = set("，,。；;：:、 \n\t“\"（(）)") | set("0123456789年")
NOT_A_NAME = {"全区", "全县", "全市", "我区", "我县", "我市", "本区", "本县", "本市", "该区", "城区", "各区", "各县", "区县"}
YEAR = re.compile(r"(20\d\d)\s*年")
YEAR_RANGE = re.compile(r"20\d\d")
CITY = re.compile(r"省([\u4e00-\u9fa5]{2}市)")  # "东临省海川市": a guess only when no city report helps


def _region_from(text: str) -> tuple[str, str] | None:
    """(name, level char) of the first 'XX区科技局' in text, or None.

    The regex may start too early ("海川市滨海区科技局" gives the stem "川市滨海"), so the name is
    the longest tail of the stem that starts at punctuation, or else the tail right after a
    higher-level name (省/市/县).
    """
    for m in REGION_BEFORE_BUREAU.finditer(text):
        stem, suffix = m.group(1), m.group(2)
        if set(stem) <= set("Xx*"):
            return stem + suffix, suffix
        tails = [(stem[cut:], (text[: m.start(1)] + stem[:cut])[-1:]) for cut in range(len(stem))]
        for cand, prev in tails:
            if (not prev or prev in NAME_BOUNDARY) and cand + suffix not in NOT_A_NAME:
                return cand + suffix, suffix
        for cand, prev in tails:
            if prev in "省市县" and len(cand) >= 2:
                return cand + suffix, suffix
    return None


def _bare_level(text: str) -> str:
    """Level from an unnamed '区科技局' / '县科技局' / '市科技局'."""
    m = re.search(r"([区县市])(?:科学技术局|科技局)", text)
    return LEVELS[m.group(1)] if m else ""


def extract_meta(title: str, text: str, filename: str = "") -> dict:
    """Region, city, level, year, plan_year and kind of one report."""
    opening = text[:600]
    found = _region_from(title) or _region_from(opening)
    region, level = ("", "")
    if found:
        region, level = found[0], LEVELS[found[1]]
    else:
        level = _bare_level(title) or _bare_level(opening)
    if not region and filename:
        m = re.search(r"([\u4e00-\u9fa5]{2,4}[区县市])", filename)
        if m:
            region, level = m.group(1), LEVELS[m.group(1)[-1]]

    years = [int(y) for y in YEAR.findall(title)]
    body_years = [int(y) for y in YEAR.findall(opening)]
    year = years[0] if years else (body_years[0] if body_years else None)
    plan_year = None
    if len(years) >= 2 and years[1] > years[0]:
        plan_year = years[1]
    kind = "annual"
    if "上半年" in title or "半年" in title:
        kind = "halfyear"
        plan_year = plan_year or year
    elif year and not re.search(r"总结|情况|回顾", title) and re.search(r"计划|要点|思路|打算|安排", title):
        kind = "plan"
        plan_year = year
    elif year and plan_year is None and re.search(r"计划|要点|思路|打算|安排", title):
        plan_year = year + 1
    return {
        "region": region,
        "level": level,
        "city": _city(text, region),
        "year": year,
        "plan_year": plan_year,
        "kind": kind,
    }


def _city(text: str, region: str, city_reports: dict[str, str] | None = None) -> str:
    """The city a district or county report belongs to.

    With the corpus's city reports at hand (`city_reports`: city name → text), the city whose
    report names this region, or whose name stem ("海川" of 海川市) this report uses most, wins;
    otherwise a "XX省XX市" in the text, or nothing rather than a wrong guess.
    """
    if region.endswith("市"):
        return region
    scores = Counter()
    for city, city_text in (city_reports or {}).items():
        stem = city[:-1]
        score = text.count(stem) + (3 * city_text.count(region) if region and not set(region[:-1]) <= set("Xx*") else 0)
        if score:
            scores[city] = score
    if scores:
        return scores.most_common(1)[0][0]
    counts = Counter(CITY.findall(text))
    return counts.most_common(1)[0][0] if counts else ""


def assign_cities(metas: list[tuple[dict, str]]) -> None:
    """Second pass over a corpus: re-read each report's city knowing the corpus's city reports."""
    city_reports: dict[str, str] = {}
    for meta, text in metas:
        if meta.get("level") == "city" and meta.get("region"):
            city_reports[meta["region"]] = city_reports.get(meta["region"], "") + text
    for meta, text in metas:
        meta["city"] = _city(text, meta.get("region", ""), city_reports)


TITLE_KEYWORDS = re.compile(r"^.{2,50}(?:工作|H作)(?:总结|计划|思路|要点|打算|安排|报告)")
HEADING_START = re.compile(r"^(第[一二三四五六七八九十]{1,3}部分|[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)]|\d{1,2}[、.．])")


def split_title(text: str) -> tuple[str, int]:
    """(title, offset where the body starts) of cleaned text; ("", 0) when it has no title.

    The title is the first line when it is short, has no full stop and is not a heading; in a
    report pasted as one paragraph it is the leading "…工作总结…工作思路" before the body.
    """
    nl = text.find("\n")
    first = text[: nl if nl >= 0 else len(text)]
    if HEADING_START.match(first):
        return "", 0
    if 0 < len(first) <= 60 and "。" not in first and nl >= 0:
        return first, nl + 1
    m = TITLE_KEYWORDS.match(first)
    if m:
        # Take the longest run of "…工作总结…工作思路" pieces at the start.
        end = m.end()
        more = re.match(r"(?:[和及暨与、]?\d{4}年(?:上半年|下半年)?(?:工作|H作)(?:总结|计划|思路|要点|打算|安排|报告))+", first[end:])
        if more:
            end += more.end()
        return first[:end], end
    return "", 0
