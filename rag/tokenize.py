"""jieba tokenisation for BM25, with a user dictionary of policy terms and stop words.

A private `jieba.Tokenizer` is used (not jieba's global one), so loading our dictionary never
changes how other code in the process segments text.
"""
from __future__ import annotations

import logging
import re
import threading

# Terms that must stay whole for lexical matching to work on these reports.
POLICY_TERMS = """
技术创新中心 高新技术企业 科技型中小企业 技术合同成交额 技术合同 重点实验室 工程技术研究中心
新型研发机构 院士工作站 科技企业孵化器 众创空间 星创天地 研发投入 研发经费 研发投入强度
发明专利 专利授权 国际科技合作基地 科技特派员 产学研 揭榜挂帅 科技成果转化 中试基地
省级 市级 国家级 区级 县级 高企 规上工业企业 科创板 孵化载体 创新联合体 技术经理人
获批 批复 获准 认定 揭牌 申报 争创 谋划 力争 科技活动周 全国科普日 知识产权 质押融资
""".split()
STOP_WORDS = set("""
的 了 和 与 及 等 在 对 为 以 将 把 被 是 有 中 上 下 其 并 或 也 又 就 都 而 于 由 从 向 至 之 各 该 此 这 那
个 家 项 件 名 年 月 日 我 我们 工作 进一步 全面 积极 不断 持续 加强 推进 推动 开展 实施 有序 切实 扎实 深入
哪些 什么 多少 如何 怎么 怎样 是否 吗 呢 做 做了 方面 情况 有关 相关 一是 二是 三是 四是 五是
""".split())
PUNCT = re.compile(r"^[\s\W_]+$", re.UNICODE)


class Tokenizer:
    def __init__(self):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        for term in POLICY_TERMS:
            self._jieba.add_word(term, freq=20000)
        self._lock = threading.Lock()  # jieba initialises lazily and is not thread-safe then

    def __call__(self, text: str) -> list[str]:
        with self._lock:
            words = self._jieba.lcut_for_search(text.lower(), HMM=True)
        return [w for w in words if w.strip() and w not in STOP_WORDS and not PUNCT.match(w)]
