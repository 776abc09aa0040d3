"""End-to-end in a real browser: Playwright (sync API) driving Debian's chromium against the app.

Ask → cited answer → open a citation (highlighted passage) → copy and export a DOCX with the
citation → upload a GBK-encoded report → find it in the library, in search and in ask.
Screenshots go to artifacts/ (gitignored). Requires `apt-get install -y chromium`.
"""
from __future__ import annotations

import shutil
import socket
from pathlib import Path

import docx
import pytest

import ui
from rag.config import Config
from rag.pipeline import Pipeline

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
QUESTION = "哪些区获批了省级技术创新中心？"
UPLOAD_NAME = "测试区2023年工作总结.txt"
UPLOAD_TITLE = "测试区科技局2023年工作总结"
DISTINCT = "测试区翡翠穹顶联合实验室"
GBK_REPORT = (f"{UPLOAD_TITLE}\n\n"
              "一、2023年工作情况\n"
              f"（一）创新平台建设。{DISTINCT}获批建设省级重点实验室，全年新增市级重点实验室2家。\n"
              "（二）企业培育。高新技术企业达到88家，科技型中小企业入库120家。\n"
              "二、2024年工作计划\n"
              "（一）加快平台建设。力争新增省级技术创新中心1家。\n")
TIMEOUT = 180_000  # ms; the first question also loads the embedder, and CI machines are slow

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="需要 Debian 的 chromium：apt-get update && apt-get install -y chromium"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(built_index, tmp_path_factory):
    """(url, pipeline): the app over private copies of corpus/ and of the session index."""
    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(built_index.config.corpus_dir, root / "corpus")
    shutil.copytree(built_index.config.index_dir, root / "index", symlinks=True)
    pipe = Pipeline(Config(corpus_dir=root / "corpus", index_dir=root / "index"), embedder=built_index.embedder)
    app = ui.build_app(pipe)
    port = free_port()
    ui.launch(app, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/", pipe
    app.close()


@pytest.fixture
def page(served):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                      locale="zh-CN")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served[0].rstrip("/"))
        # Network only to 127.0.0.1: anything else (web fonts, CDNs) is refused at once.
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
                      else route.abort())
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def ask(page, question: str, button: str = "#ask-btn") -> None:
    page.locator("#question textarea").fill(question)
    page.locator(button).click()


def answer_text(page) -> str:
    return page.locator("#answer").inner_text()


def test_browser_end_to_end(page, served, tmp_path):
    url, pipe = served
    page.goto(url)
    page.get_by_text("已索引").first.wait_for()

    # 1. a cited answer
    ask(page, QUESTION)
    page.locator("#passages details.citation").first.wait_for()
    result = page.locator("#answer")
    assert result.locator(".answer .marker").count() >= 1, answer_text(page)
    assert "[1]" in result.locator(".answer").inner_text()
    page.locator("#items").get_by_text("地区").first.wait_for()  # a list question gets its table
    shot(page, "ui-1-answer.png")

    # 2. open a citation: the passage in its context with the cited span highlighted
    first = page.locator("#passages details.citation").first
    first.locator("summary").click()
    mark = first.locator(".passage mark")
    mark.wait_for(state="visible")
    assert len(mark.inner_text()) > 5
    assert first.locator(".cite-text").inner_text().startswith("〔")
    shot(page, "ui-2-citation-open.png")

    # 3. the citation tab: copy-ready citation, copy button, DOCX export containing it
    open_tab(page, "引用与简报")
    citation = page.locator("#cite-one textarea, #cite-one input").first
    page.wait_for_function("() => { const e = document.querySelector('#cite-one textarea, #cite-one input');"
                           " return e && e.value.startsWith('〔'); }")
    citation_text = citation.input_value()
    assert citation_text.endswith("字〕")
    page.locator("#cite-one button").first.click()  # the copy button
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == citation_text
    with page.expect_download() as info:
        page.locator("#export-docx").click()
    saved = ARTIFACTS / "ui-export.docx"
    info.value.save_as(str(saved))
    text = "\n".join(p.text for p in docx.Document(str(saved)).paragraphs)
    assert citation_text in text and QUESTION in text
    shot(page, "ui-3-cite-tab.png")

    # 4. upload a GBK report, see it in the library
    report = tmp_path / UPLOAD_NAME
    report.write_bytes(GBK_REPORT.encode("gbk"))
    open_tab(page, "文档库")
    page.locator("#upload input[type=file]").set_input_files(str(report))
    page.locator("#upload-btn").click()
    page.locator("#library-message").get_by_text("已添加").wait_for()
    assert UPLOAD_NAME in page.locator("#library-message").inner_text()
    page.locator("#library-table").get_by_text(UPLOAD_TITLE).first.wait_for()
    shot(page, "ui-4-library.png")
    assert (Path(pipe.config.corpus_dir) / UPLOAD_NAME).read_bytes() == GBK_REPORT.encode("gbk")

    # 5. find it in search and in ask
    open_tab(page, "问答")
    ask(page, DISTINCT, button="#search-btn")
    found = page.locator(f'#passages details.citation[data-doc="{UPLOAD_NAME}"]').first
    found.wait_for()
    assert DISTINCT in found.inner_text()
    ask(page, f"{DISTINCT}是哪一年获批建设的？")
    page.locator("#answer .answer, #answer .refusal").first.wait_for()  # the search left only a note there
    cited = page.locator(f'#answer [data-doc="{UPLOAD_NAME}"], #passages [data-doc="{UPLOAD_NAME}"]')
    cited.first.wait_for()
    assert DISTINCT in answer_text(page) + page.locator("#passages").inner_text()
    shot(page, "ui-5-uploaded-found.png")

    # 6. delete it again (confirming the browser's dialog)
    open_tab(page, "文档库")
    page.once("dialog", lambda dialog: dialog.accept())
    pick = page.locator("#delete-pick input")
    pick.click()
    pick.fill(UPLOAD_NAME)
    page.get_by_role("option", name=UPLOAD_TITLE).first.click()
    page.locator("#delete-btn").click()
    page.locator("#library-message").get_by_text("已删除").wait_for()
    assert not (Path(pipe.config.corpus_dir) / UPLOAD_NAME).exists()
    assert UPLOAD_TITLE not in page.locator("#library-table").inner_text()
    shot(page, "ui-6-deleted.png")
