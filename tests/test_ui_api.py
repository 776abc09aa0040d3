"""The Gradio app served on 127.0.0.1 and driven through gradio_client: every named event handler.

The read-only app serves the session index of corpus/; the upload/delete app works on private
copies of corpus/ and of that index, so the repository is never changed.
"""
from __future__ import annotations

import shutil
import socket
from pathlib import Path

import docx
import pytest
from gradio_client import Client, handle_file

import ui
from rag import cite
from rag.config import Config
from rag.pipeline import Pipeline

pytestmark = pytest.mark.slow  # needs the session index of the whole corpus

QUESTION = "哪些区获批了省级技术创新中心？"
GBK_REPORT = ("测试区科技局2023年工作总结\n\n"
              "一、2023年工作情况\n"
              "（一）创新平台建设。测试区琥珀星云联合实验室获批建设，全年新增市级重点实验室2家。\n"
              "（二）企业培育。高新技术企业达到88家，科技型中小企业入库120家。\n")
EXPECTED_APIS = {"/status", "/ask", "/export", "/search", "/cite", "/similar", "/upload", "/delete", "/library"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(pipeline: Pipeline, **kwargs):
    app = ui.build_app(pipeline)
    port = free_port()
    ui.launch(app, "127.0.0.1", port, prevent_thread_lock=True, quiet=True, **kwargs)
    return app, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def url(built_index):
    app, address = serve(built_index)
    yield address
    app.close()


@pytest.fixture
def client(url) -> Client:
    return Client(url, verbose=False)  # a new session per test


@pytest.fixture(scope="module")
def writable(built_index, tmp_path_factory):
    """(url, pipeline) of an app over private copies of corpus/ and of the session index."""
    root = tmp_path_factory.mktemp("writable")
    shutil.copytree(built_index.config.corpus_dir, root / "corpus")
    shutil.copytree(built_index.config.index_dir, root / "index", symlinks=True)
    pipe = Pipeline(Config(corpus_dir=root / "corpus", index_dir=root / "index"), embedder=built_index.embedder)
    app, address = serve(pipe)
    yield address, pipe
    app.close()


def test_every_handler_is_named(client):
    named = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert EXPECTED_APIS <= named


def test_status_and_library(client, built_index):
    status, region, year, table, delete_pick, problems = client.predict(api_name="/status")
    index = built_index.index
    assert status.startswith(f"已索引 {len(index.docs)} 份报告、{len(index.chunks)} 个片段")
    assert len(table["data"]) == len(index.docs)
    assert table["headers"] == ui.LIBRARY_HEADERS
    row = next(r for r in table["data"] if r[4] == "binhai-2022-annual.txt")
    assert row[:3] == ["滨海区科技局2022年工作总结和2023年工作计划", "滨海区", 2022] and row[3] > 0
    table2, _, _, status2 = client.predict(api_name="/library")
    assert table2["data"] == table["data"] and status2 == status


def test_search_shows_highlighted_passages(client):
    head, table, html = client.predict("滨海区2022年技术合同成交额是多少？", "", "", "", "", api_name="/search")
    assert "检索结果" in head and "<mark>" in html and "51.3亿元" in html
    assert "〔滨海区科技局2022年工作总结和2023年工作计划，" in html
    _, _, filtered = client.predict("技术合同成交额", "云台区", "2022", "", "", api_name="/search")
    assert 'data-doc="yuntai-2022-annual.txt"' in filtered
    assert "binhai" not in filtered
    head, _, html = client.predict("  ", "", "", "", "", api_name="/search")
    assert "请输入" in head and html == ""


def test_ask_cite_and_export(client):
    out = client.predict(QUESTION, "", "", "", "", False, api_name="/ask")
    html, table, passages, all_cites, pick, one, passage = out
    if not hasattr(Pipeline, "ask"):
        pytest.skip("Pipeline.ask (rag/answer.py) is not in this tree yet; the UI shows search results instead")
    assert 'class="answer"' in html and '<span class="marker">[1]</span>' in html
    assert '<details class="citation"' in passages and "<mark>" in passages
    assert passages.count('<details class="citation"') == len(all_cites.splitlines())
    assert all_cites.startswith("[1] 〔") and one.startswith("〔") and one in all_cites
    assert "<mark>" in passage
    rows = table["value"]["data"] if isinstance(table, dict) and "value" in table else table["data"]
    assert rows and all(len(r) == 5 for r in rows)  # a list question gets the 地区/名称/状态/年份/出处 table
    assert any("省级" in r[1] or "省" in r[1] for r in rows)

    second = client.predict("2", api_name="/cite")
    lines = all_cites.splitlines()
    if len(lines) > 1:
        assert lines[1] == f"[2] {second[0]}" and "<mark>" in second[1]

    docx_path, md_path = client.predict(api_name="/export")
    text = "\n".join(p.text for p in docx.Document(docx_path).paragraphs)
    assert QUESTION in text and one in text
    md = Path(md_path).read_text("utf-8")
    assert md.startswith("# 问答简报") and one in md


def test_ask_single_fact(client):
    if not hasattr(Pipeline, "ask"):
        pytest.skip("Pipeline.ask (rag/answer.py) is not in this tree yet")
    html, table, passages, all_cites, *_ = client.predict("滨海区2022年技术合同成交额是多少？", "", "", "", "", False,
                                                          api_name="/ask")
    assert "51.3" in html and '<span class="marker">[1]</span>' in html
    assert "<mark>" in passages and "binhai-2022-annual.txt" in passages
    assert all_cites.startswith("[1] 〔滨海区科技局2022年工作总结和2023年工作计划，")


def test_ask_refuses_what_the_reports_do_not_cover(client):
    if not hasattr(Pipeline, "ask"):
        pytest.skip("Pipeline.ask (rag/answer.py) is not in this tree yet")
    html, table, passages, all_cites, *_ = client.predict("滨海区2030年技术合同成交额是多少？", "", "", "", "", False,
                                                          api_name="/ask")
    assert 'class="refusal"' in html and "资料中未找到" in html
    assert 'class="answer"' not in html


def test_ask_empty_and_without_answer(client):
    html, table, passages, all_cites, *_ = client.predict("", "", "", "", "", False, api_name="/ask")
    assert "请输入问题" in html and passages == "" and all_cites == ""
    docx_path, md_path = client.predict(api_name="/export")
    assert docx_path is None and md_path is None  # nothing to export yet
    one, passage = client.predict("1", api_name="/cite")
    assert one == "" and "请先在「问答」页提问" in passage


def test_similar(client):
    draft = "全年登记技术合同1398项，技术合同成交额51.3亿元。今天天气晴朗，适合出门散步。"
    html = client.predict(draft, 3, "", api_name="/similar")
    if not hasattr(Pipeline, "similar"):
        assert "相似表述模块尚未就绪" in html
        pytest.skip("Pipeline.similar (rag/similar.py) is not wired into the pipeline yet")
    assert "第1句" in html and "相似度" in html and "滨海区科技局2022年工作总结和2023年工作计划" in html
    assert "第2句" in html and "未找到相似表述" in html
    assert "请粘贴" in client.predict("", 3, "", api_name="/similar")


def test_upload_search_and_delete(writable, tmp_path):
    address, pipe = writable
    client = Client(address, verbose=False)
    good = tmp_path / "测试区2023年工作总结.txt"
    good.write_bytes(GBK_REPORT.encode("gbk"))
    junk = tmp_path / "乱码.txt"
    junk.write_bytes(bytes(range(256)) * 40)
    before = len(pipe.index.docs)

    msg, table, pick, problems, region, year, status = client.predict(
        [handle_file(str(good)), handle_file(str(junk))], api_name="/upload")
    assert "**已添加**：「测试区2023年工作总结.txt」" in msg
    assert "**未能上传**：「乱码.txt」无法识别文件编码" in msg
    assert "本次新计算向量" in msg
    assert (Path(pipe.config.corpus_dir) / "测试区2023年工作总结.txt").read_bytes() == GBK_REPORT.encode("gbk")
    assert not (Path(pipe.config.corpus_dir) / "乱码.txt").exists()
    row = next(r for r in table["data"] if r[4] == "测试区2023年工作总结.txt")
    assert row[:3] == ["测试区科技局2023年工作总结", "测试区", 2023]
    assert status.startswith(f"已索引 {before + 1} 份报告")

    _, _, html = client.predict("琥珀星云联合实验室", "", "", "", "", api_name="/search")
    assert 'data-doc="测试区2023年工作总结.txt"' in html and "<mark>" in html

    msg, table, *_ = client.predict("测试区2023年工作总结.txt", api_name="/delete")
    assert msg.startswith("**已删除**「测试区2023年工作总结.txt」")
    assert all(r[4] != "测试区2023年工作总结.txt" for r in table["data"])
    assert not (Path(pipe.config.corpus_dir) / "测试区2023年工作总结.txt").exists()
    msg, *_ = client.predict("../../etc/passwd", api_name="/delete")
    assert msg.startswith("**未能删除**") and "不是文档库中的报告" in msg
    msg, *_ = client.predict("", api_name="/delete")  # nothing chosen, or the browser's confirm cancelled
    assert msg.startswith("未删除任何报告")
    msg, *_ = client.predict([], api_name="/upload")
    assert "请先选择要上传的文件" in msg


# --- launch security ---------------------------------------------------------------------------

@pytest.mark.parametrize("host, local", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                         ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                         ("::", False), ("example.org", False)])
def test_loopback_detection(host, local):
    assert ui.is_loopback(host) is local


def test_non_loopback_requires_login():
    with pytest.raises(ui.StartupError) as e:
        ui.launch_auth("0.0.0.0", env={})
    assert "POLICY_RAG_USER" in str(e.value) and "POLICY_RAG_PASSWORD" in str(e.value) and "拒绝启动" in str(e.value)
    with pytest.raises(ui.StartupError):
        ui.launch_auth("0.0.0.0", env={"POLICY_RAG_USER": "admin"})  # a password is required too
    assert ui.launch_auth("0.0.0.0", env={"POLICY_RAG_USER": "a", "POLICY_RAG_PASSWORD": "b"}) == ("a", "b")
    assert ui.launch_auth("127.0.0.1", env={}) is None


def test_main_refuses_to_start_without_login(monkeypatch, capsys):
    monkeypatch.delenv("POLICY_RAG_USER", raising=False)
    monkeypatch.delenv("POLICY_RAG_PASSWORD", raising=False)
    with pytest.raises(SystemExit) as e:
        ui.main(["--host", "0.0.0.0", "--port", str(free_port())])
    assert e.value.code == 1
    assert "拒绝启动" in capsys.readouterr().err


def test_login_is_enforced_when_configured(built_index):
    env = {"POLICY_RAG_USER": "审阅人", "POLICY_RAG_PASSWORD": "s3cret-口令"}
    app, address = serve(built_index, env=env)
    try:
        with pytest.raises(Exception):
            Client(address, verbose=False).predict(api_name="/library")
        client = Client(address, auth=("审阅人", "s3cret-口令"), verbose=False)
        table, *_ = client.predict(api_name="/library")
        assert len(table["data"]) == len(built_index.index.docs)
    finally:
        app.close()


# --- concurrency -------------------------------------------------------------------------------

CONCURRENT_QUESTIONS = [
    ("滨海区2022年技术合同成交额是多少？", "51.3亿元"),
    ("滨海区2021年技术合同成交额是多少？", "42.6亿元"),
    ("哪些区获批了省级技术创新中心？", "临港区"),
    ("云台区2022年在人才引育方面做了哪些工作？", "海农英才"),
]


def test_twenty_simultaneous_clients_and_an_upload_during_queries(writable, tmp_path):
    """20 clients ask at once (bounded: 20 threads, one question each, 10-minute cap) while a report is
    uploaded; every answer is still the right one."""
    from concurrent.futures import ThreadPoolExecutor, wait

    address, pipe = writable
    report = tmp_path / "并发测试区2023年工作总结.txt"
    report.write_bytes(GBK_REPORT.replace("测试区", "并发测试区").encode("gbk"))

    def ask(n: int):
        question, expected = CONCURRENT_QUESTIONS[n % len(CONCURRENT_QUESTIONS)]
        html, *_ = Client(address, verbose=False).predict(question, "", "", "", "", False, api_name="/ask")
        return question, expected, html

    def upload():
        return Client(address, verbose=False).predict([handle_file(str(report))], api_name="/upload")[0]

    with ThreadPoolExecutor(max_workers=21) as pool:
        asks = [pool.submit(ask, n) for n in range(20)]
        up = pool.submit(upload)
        done, pending = wait([*asks, up], timeout=600)
    assert not pending
    for future in asks:
        question, expected, html = future.result()
        assert expected in html, question
    assert "已添加" in up.result()
    _, _, html = Client(address, verbose=False).predict("并发测试区", "", "", "", "", api_name="/search")
    assert "并发测试区2023年工作总结.txt" in html
    Client(address, verbose=False).predict("并发测试区2023年工作总结.txt", api_name="/delete")
