"""LLM answers (rag.llm) against fake OpenAI-compatible servers on 127.0.0.1 started by the tests:
an honest one, one that invents a number, and one that hangs. No network beyond 127.0.0.1."""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.llm import check_sentence, verify
from rag.pipeline import Pipeline
from rag.types import Citation

pytestmark = pytest.mark.slow  # answers need the session index of the whole corpus


class FakeOpenAI:
    """/v1/chat/completions answering with `reply(messages)`; records every request."""

    def __init__(self, reply, delay: float = 0.0):
        self.reply = reply
        self.delay = delay
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append({"path": self.path, "body": body})
                if fake.delay:
                    time.sleep(fake.delay)
                content = fake.reply(body.get("messages", []))
                data = json.dumps({
                    "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def passage(messages: list[dict], n: int) -> str:
    """The text of passage [n] in the prompt."""
    user = next(m["content"] for m in messages if m["role"] == "user")
    m = re.search(rf"^\[{n}\] [^\n]*\n(.+?)(?=\n\n\[\d+\] |\n\n问题：)", user, re.S | re.M)
    return m.group(1).strip() if m else ""


def honest(messages):
    first = passage(messages, 1)
    clause = re.split(r"[，。；]", first)[0]
    return f"{clause}。[1]"


def inventing(messages):
    return honest(messages) + "\n同期还新增省级技术创新中心99家。[1]"


def llm_pipeline(built_index, base_url: str, timeout: float = 30.0) -> Pipeline:
    config = replace(built_index.config, llm_base_url=base_url, llm_model="fake-model", llm_api_key="test",
                     llm_timeout=timeout)
    return Pipeline(config, embedder=built_index.embedder)


def test_honest_model_answer_is_kept_with_its_citations(built_index):
    with FakeOpenAI(honest) as fake:
        pipe = llm_pipeline(built_index, fake.base_url)
        a = pipe.ask("滨海区2022年技术合同成交额是多少？", llm=True)
    assert len(fake.requests) == 1 and fake.requests[0]["path"] == "/v1/chat/completions"
    body = fake.requests[0]["body"]
    assert body["model"] == "fake-model" and "[1]" in body["messages"][-1]["content"]
    assert not a.refused and a.claims
    assert "51.3亿元" in a.claims[0].text and "51.3亿元" in a.claims[0].citations[0].quote
    assert a.text.startswith(a.claims[0].text + "[1]")
    assert any("大模型" in n for n in a.notes)


def test_invented_number_is_caught_and_dropped(built_index):
    with FakeOpenAI(inventing) as fake:
        a = llm_pipeline(built_index, fake.base_url).ask("滨海区2022年技术合同成交额是多少？", llm=True)
    assert not any("99" in c.text for c in a.claims)
    assert "99家" not in a.text
    assert any("99" in n and "不在所引资料中" in n for n in a.notes)
    assert a.claims and "51.3" in a.claims[0].text


def test_hanging_model_falls_back_to_the_offline_answer(built_index):
    with FakeOpenAI(honest, delay=5.0) as fake:
        a = llm_pipeline(built_index, fake.base_url, timeout=1.0).ask("滨海区2022年技术合同成交额是多少？", llm=True)
    assert any("超时" in n and "离线答案" in n for n in a.notes)
    offline = built_index.ask("滨海区2022年技术合同成交额是多少？")
    assert a.text == offline.text and not a.refused


def test_nothing_relevant_is_refused_without_calling_the_model(built_index):
    with FakeOpenAI(honest) as fake:
        a = llm_pipeline(built_index, fake.base_url).ask("北湖县2023年有效高新技术企业有多少家？", llm=True)
    assert a.refused and a.text.startswith("资料中未找到")
    assert fake.requests == []


def test_without_a_configured_model_the_offline_answer_says_so(built_index):
    a = built_index.ask("滨海区2022年技术合同成交额是多少？", llm=True)
    assert not a.refused and any("未配置大模型" in n for n in a.notes)


def test_sentence_check_needs_numbers_and_words_from_the_cited_passage(built_index):
    cite = Citation("d", "t", [], 0, 10, "技术合同成交额51.3亿元，同比增长20.4%")
    from rag.llm import Passage

    p = [Passage(1, cite)]
    tok = built_index.tokenizer
    assert check_sentence("技术合同成交额51.3亿元", p, tok)[0]
    assert not check_sentence("技术合同成交额61.3亿元", p, tok)[0]
    assert not check_sentence("全区引进院士团队三个并建成实验室", p, tok)[0]
    assert not check_sentence("技术合同成交额51.3亿元", [], tok)[0]
    claims, notes = verify("技术合同成交额51.3亿元[1]。同比增长20.4%[1]。另外增长30%[1]。", p, tok)
    assert [c.text for c in claims] == ["技术合同成交额51.3亿元。", "同比增长20.4%。"]
    assert len(notes) == 1 and "30" in notes[0]
