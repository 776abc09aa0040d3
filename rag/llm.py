"""Answers written by an LLM (any OpenAI-compatible endpoint, through LangChain) and checked.

The model gets numbered passages — the offline answer's citations plus the best retrieved
chunks — and must end every sentence with the [n] of the passage that supports it. Each
sentence is then checked against the passages it cites: every number in it must appear there,
and most of its content words too. Sentences that fail, or cite nothing, are dropped and listed
in `Answer.notes`. When nothing relevant was found the answer is refused without calling the
model; when the model cannot be reached (timeout, connection, HTTP error) the offline answer is
returned with a Chinese note saying why.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .answer import REFUSAL, Answerer
from .retrieve import Filters
from .types import Answer, Citation, Claim

MAX_PASSAGES = 8
MIN_WORD_SUPPORT = 0.6  # share of a sentence's content words that its passages must contain
SYSTEM_PROMPT = (
    "你是科技局工作报告的问答助手。只能依据用户给出的编号资料回答，不得使用资料以外的知识。"
    "每一句话末尾都必须用方括号标注所依据资料的编号，例如[1]或[2][3]；数字、名称必须与资料原文一致，不得推算或编造。"
    "如果资料不足以回答，只回答“资料中未找到”。回答使用简体中文，简明扼要。"
)
NUMBER = re.compile(r"\d+(?:\.\d+)?")
MARKER = re.compile(r"\[(\d{1,2})\]")
SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?(?:\s*(?:\[\d{1,2}\])+)?")
FILLER = set("""
的 了 和 与 及 等 在 对 为 以 将 把 被 是 有 中 上 下 其 并 或 也 又 就 都 而 于 由 从 向 至 之 各 该 此 这 那
根据 资料 显示 表明 其中 主要 包括 分别 通过 方面 工作 情况 相关 进行 开展 一是 二是 三是 全年 年度 报告 提到 记载
""".split())


class LLMError(Exception):
    """The model could not be used; the message is Chinese and says why."""


@dataclass
class Passage:
    n: int
    citation: Citation

    def render(self) -> str:
        section = " › ".join(s for s in self.citation.section if s)
        head = f"《{self.citation.title}》" + (f" {section}" if section else "")
        return f"[{self.n}] {head}\n{self.citation.quote}"


def make_chat_model(config):
    """LangChain's ChatOpenAI pointed at the configured OpenAI-compatible endpoint."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=config.llm_model or "default",
        base_url=config.llm_base_url,
        api_key=config.llm_api_key or "EMPTY",  # local servers (Ollama, vLLM) accept any key
        timeout=config.llm_timeout,
        max_retries=0,
        temperature=0,
    )


def call_llm(config, question: str, passages: list[Passage]) -> str:
    """The model's reply text, or LLMError with a Chinese reason."""
    from langchain_core.messages import HumanMessage, SystemMessage

    context = "\n\n".join(p.render() for p in passages)
    messages = [SystemMessage(content=SYSTEM_PROMPT),
                HumanMessage(content=f"资料：\n{context}\n\n问题：{question}\n请依据资料作答，每句末尾标注资料编号。")]
    try:
        reply = make_chat_model(config).invoke(messages)
    except Exception as e:  # noqa: BLE001 - every failure becomes a note and the offline answer
        raise LLMError(_reason(e, config)) from e
    content = reply.content if isinstance(reply.content, str) else "".join(
        part.get("text", "") if isinstance(part, dict) else str(part) for part in reply.content)
    if not content.strip():
        raise LLMError("大模型返回了空内容")
    return content


def _reason(e: Exception, config) -> str:
    name = type(e).__name__
    text = str(e)
    if "Timeout" in name or "timed out" in text.lower():
        return f"大模型服务在 {config.llm_timeout:g} 秒内没有响应（超时）"
    if "Connection" in name or "connect" in text.lower():
        return f"无法连接大模型服务「{config.llm_base_url}」"
    if "Authentication" in name or "401" in text:
        return "大模型服务拒绝了密钥（认证失败）"
    if "NotFound" in name or "404" in text:
        return f"大模型服务上找不到模型「{config.llm_model}」或接口地址有误"
    return f"大模型调用出错（{name}：{text[:120]}）"


def passages_for(answerer: Answerer, question: str, offline: Answer, filters: Filters | None) -> list[Passage]:
    """Numbered passages: the offline answer's citations first, then the best retrieved chunks."""
    cites: list[Citation] = []
    seen = set()
    for c in [c for cl in offline.claims for c in cl.citations] + [c for it in offline.items for c in it.citations]:
        if (c.doc, c.start, c.end) not in seen:
            seen.add((c.doc, c.start, c.end))
            cites.append(c)
    if len(cites) < MAX_PASSAGES:
        for hit in answerer.retriever.search(question, MAX_PASSAGES, filters):
            ch = hit.chunk
            if any(c.doc == ch.doc and c.start < ch.end and ch.start < c.end for c in cites):
                continue
            cites.append(answerer.citation(ch.doc, ch.start, ch.end))
            if len(cites) >= MAX_PASSAGES:
                break
    return [Passage(n, c) for n, c in enumerate(cites[:MAX_PASSAGES], start=1)]


def content_words(text: str, tokenize) -> list[str]:
    return [w for w in tokenize(text) if w not in FILLER and len(w) > 1 and not NUMBER.fullmatch(w)]


def check_sentence(sentence: str, cited: list[Passage], tokenize) -> tuple[bool, str]:
    """(supported, reason): its numbers and most of its content words are in the cited passages."""
    if not cited:
        return False, "未标注出处"
    source = "".join(p.citation.quote for p in cited)
    missing = [n for n in NUMBER.findall(sentence)
               if not re.search(rf"(?<![\d.]){re.escape(n)}(?![\d]|\.\d)", source)]
    if missing:
        return False, f"数字 {'、'.join(missing)} 不在所引资料中"
    words = content_words(sentence, tokenize)
    if words:
        found = sum(1 for w in words if w in source)
        if found / len(words) < MIN_WORD_SUPPORT:
            return False, "内容与所引资料不符"
    return True, ""


def verify(reply: str, passages: list[Passage], tokenize) -> tuple[list[Claim], list[str]]:
    """Supported sentences as claims (citations from their markers), and notes on the rest."""
    by_n = {p.n: p for p in passages}
    claims, notes = [], []
    for m in SENTENCE.finditer(reply):
        raw = m.group(0).strip()
        if not raw:
            continue
        nums = [int(n) for n in MARKER.findall(raw)]
        text = MARKER.sub("", raw).strip()
        if len(re.sub(r"[\W_]", "", text)) < 2:
            continue
        cited = [by_n[n] for n in dict.fromkeys(nums) if n in by_n]
        ok, why = check_sentence(text, cited, tokenize)
        if ok:
            claims.append(Claim(text, [p.citation for p in cited]))
        else:
            notes.append(f"已删除无依据的句子（{why}）：{text}")
    return claims, notes


def answer_with_llm(pipe, question: str, filters: Filters | None = None) -> Answer:
    """An LLM-written answer whose every sentence is checked; the offline answer on any failure."""
    answerer = Answerer(pipe)
    offline = answerer.ask(question, filters)
    config = pipe.config
    if offline.refused:
        offline.notes.append("未检索到可作答的资料，未调用大模型。")
        return offline
    if not config.llm_base_url:
        offline.notes.append("未配置大模型服务（POLICY_RAG_LLM_BASE_URL 或 OPENAI_BASE_URL），以下为离线答案。")
        return offline
    passages = passages_for(answerer, question, offline, filters)
    try:
        reply = call_llm(config, question, passages)
    except LLMError as e:
        offline.notes.append(f"{e}，已改为离线答案。")
        return offline
    if reply.strip().startswith(REFUSAL):
        return Answer(question, f"{REFUSAL}（大模型认为所给资料不足以回答）。\n以下相关内容仅供参考，不构成答案。",
                      refused=True, related=answerer.related(answerer_question(answerer, question, filters)),
                      notes=["大模型未能依据资料作答。"])
    claims, notes = verify(reply, passages, pipe.tokenizer)
    if not claims:
        offline.notes += notes + ["大模型的回答没有一句能在资料中找到依据，已改为离线答案。"]
        return offline
    numbers: dict[tuple, int] = {}
    lines = []
    for c in claims:
        marks = ""
        for cite in c.citations:
            key = (cite.doc, cite.start, cite.end)
            numbers.setdefault(key, len(numbers) + 1)
            marks += f"[{numbers[key]}]"
        lines.append(c.text + marks)
    sources = {}
    for c in claims:
        for cite in c.citations:
            sources.setdefault(numbers[(cite.doc, cite.start, cite.end)], cite)
    lines.append("来源：" + "；".join(f"[{n}]《{c.title}》" for n, c in sorted(sources.items())))
    return Answer(question, "\n".join(lines), refused=False, claims=claims, items=offline.items,
                  notes=notes + [f"由大模型「{config.llm_model or 'default'}」依据 {len(passages)} 段资料生成，每句已核对出处。"])


def answerer_question(answerer: Answerer, question: str, filters: Filters | None):
    from .answer import analyze

    return analyze(question, answerer.retriever, answerer.kn, filters)


__all__ = ["answer_with_llm", "verify", "check_sentence", "make_chat_model", "call_llm", "LLMError", "Passage"]
