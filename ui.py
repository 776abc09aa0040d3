"""policy-rag web UI (Gradio): 问答 · 相似表述 · 文档库 · 引用与简报.

    python ui.py [--host 127.0.0.1] [--port 7860] [--corpus corpus] [--index index]

On a fresh clone the index is built from the corpus folder first (tqdm in the terminal, a
progress bar on the page) while the server already answers. Binding to anything but a
loopback address requires POLICY_RAG_USER / POLICY_RAG_PASSWORD (Gradio login).

This module only wires widgets to the pipeline; citation text, HTML, exports and corpus
management live in rag.cite and rag.library.
"""
from __future__ import annotations

import argparse
import html
import ipaddress
import os
import sys
import tempfile
from pathlib import Path

import gradio as gr

from rag import cite, library
from rag.config import Config
from rag.pipeline import Pipeline
from rag.retrieve import Filters
from rag.store import IndexLoadError

EXAMPLES = [
    "哪些区获批了省级技术创新中心？",
    "滨海区2022年技术合同成交额是多少？",
    "云台区2022年在人才引育方面做了哪些工作？",
    "滨海区2023年计划争创哪些创新平台？",
]
ALL = ""  # the "全部" value of every filter
LEVELS = [("全部", ALL), ("区", "district"), ("县", "county"), ("市", "city")]
PARTS = [("全部", ALL), ("工作成效", "achievement"), ("工作计划", "plan"), ("存在问题", "problems")]
ITEM_HEADERS = ["地区", "名称", "状态", "年份", "出处"]
LIBRARY_HEADERS = ["标题", "地区", "年份", "片段数", "文件"]
UPLOAD_TYPES = [".txt", ".docx", ".pdf", ".md"]
LIBRARY_HINT = ("**上传报告**：支持 .txt（UTF-8、GBK 等编码均可）、.docx、.pdf（需有文字层）、.md，可一次选多个文件。"
                "上传后自动更新索引，只为新增或改动的内容计算向量；同名文件会被新内容替换。\n\n"
                "**删除报告**：在下方选择报告后点「删除报告」，索引随之更新。")
ENV_USER, ENV_PASSWORD = "POLICY_RAG_USER", "POLICY_RAG_PASSWORD"

CSS = """
.gradio-container { max-width: 1180px !important; margin: 0 auto; }
#status p { margin: 0; color: var(--body-text-color-subdued); }
.answer { font-size: 1.05rem; line-height: 1.8; padding: 12px 16px; border-left: 4px solid var(--color-accent);
          background: var(--background-fill-secondary); border-radius: 6px; white-space: normal; }
.marker { color: var(--color-accent); font-weight: 600; font-size: .85em; vertical-align: super; margin-left: 1px; }
.refusal { padding: 12px 16px; border-left: 4px solid #d97706; background: #fff7ed; color: #7c2d12; border-radius: 6px; }
.refusal p { margin: 4px 0 0; }
.note { color: var(--body-text-color-subdued); font-size: .9rem; margin: 6px 0; }
.cites-head { margin: 18px 0 6px; font-size: 1rem; }
details.citation { border: 1px solid var(--border-color-primary); border-radius: 6px; margin: 6px 0; padding: 6px 10px; }
details.citation summary { cursor: pointer; line-height: 1.6; }
details.citation[open] summary { margin-bottom: 6px; }
.cite-n { color: var(--color-accent); font-weight: 600; margin-right: 4px; }
.cite-meta { color: var(--body-text-color-subdued); font-size: .9em; }
.passage { line-height: 1.8; padding: 6px 8px; background: var(--background-fill-secondary); border-radius: 4px; }
.passage mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.cite-text { margin-top: 6px; font-size: .88rem; color: var(--body-text-color-subdued); }
.sim-sentence { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.sim-head { font-weight: 600; margin-bottom: 6px; }
.sim-match { margin: 8px 0 4px 12px; }
.score { display: inline-block; background: var(--color-accent-soft); border-radius: 4px; padding: 0 6px; font-size: .85rem; }
.diff { line-height: 1.8; margin-top: 4px; }
.diff ins, .diff .ins { background: #bbf7d0; text-decoration: none; }
.diff del, .diff .del { background: #fecaca; }
#items td, #items td *, #library-table td, #library-table td * { font-family: var(--font) !important; }
"""


# Ask in the browser before deleting; a cancelled delete reaches the server as None.
CONFIRM_DELETE = ("(doc) => (doc && window.confirm('确定要从文档库删除「' + doc + '」吗？\\n'"
                  " + '语料目录中的这个文件会被删除，索引随之更新。')) ? doc : null")


class StartupError(Exception):
    """A Chinese message explaining why the server refuses to start."""


# --- launch & security -----------------------------------------------------------------------

def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def launch_auth(host: str, env: dict | None = None) -> tuple[str, str] | None:
    """Login for Gradio: required when bound beyond this machine; optional (if set) on loopback."""
    env = os.environ if env is None else env
    user, password = env.get(ENV_USER, ""), env.get(ENV_PASSWORD, "")
    if user and password:
        return (user, password)
    if is_loopback(host):
        return None
    raise StartupError(
        f"拒绝启动：服务将监听「{host}」，这不是本机回环地址，局域网中的其他人也能访问，必须设置登录口令。\n"
        f"请先设置环境变量 {ENV_USER} 和 {ENV_PASSWORD}（用户名与密码）再启动；"
        "如只在本机使用，请去掉 --host 或设为 127.0.0.1。")


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, *, env: dict | None = None,
           max_file_size: int | None = None, **kwargs):
    """Queue on, the UI's CSS, and login when bound beyond loopback (refuses otherwise)."""
    auth = launch_auth(host, env)
    app.queue(default_concurrency_limit=4)
    return app.launch(server_name=host, server_port=port, auth=auth,
                      auth_message="请输入管理员提供的用户名和密码。" if auth else None,
                      css=CSS, ssr_mode=False, max_file_size=max_file_size, show_error=True, **kwargs)


# --- helpers ---------------------------------------------------------------------------------

def _filters(region: str | None, year, level: str | None, part: str | None) -> Filters:
    year_value = None
    if year not in (None, "", ALL):
        try:
            year_value = int(str(year).removesuffix("年"))
        except ValueError:
            year_value = None
    return Filters(regions=[region] if region else [], year=year_value, level=level or None, part=part or None)


def _sources(answer) -> list:
    """The passages a citation tab offers: the numbered citations, or a refusal's related passages."""
    if answer is None:
        return []
    numbered = cite.numbered_citations(answer)
    return numbered or [cite.hit_citation(h) for h in answer.related]


class Handlers:
    """Event handlers bound to one pipeline (and the optional first-build job)."""

    def __init__(self, pipeline: Pipeline, job: library.IndexJob | None = None):
        self.pipeline = pipeline
        self.job = job
        self.export_dir = Path(tempfile.mkdtemp(prefix="policy-rag-export-"))

    # readiness -------------------------------------------------------------------------------
    def not_ready(self) -> str | None:
        """A Chinese message when the index cannot be used yet, else None."""
        job = self.job
        if job is not None and job.running:
            pct = f"（{job.what} {job.done}/{job.total}）" if job.total else ""
            return f"索引正在建立中{pct}，请稍候再试。"
        if job is not None and job.error:
            return job.error
        if not self.pipeline.has_index():
            return f"在「{self.pipeline.config.corpus_dir}」还没有建立索引，请在「文档库」上传报告或运行 `policy-rag index`。"
        return None

    def docs(self) -> dict:
        try:
            return self.pipeline.index.docs
        except IndexLoadError:
            return {}

    def status_text(self) -> str:
        problem = self.not_ready()
        if problem:
            return f"注意：{problem}"
        try:
            index = self.pipeline.index
        except IndexLoadError as e:
            return f"注意：{e}"
        return (f"已索引 {len(index.docs)} 份报告、{len(index.chunks)} 个片段"
                f"（更新于 {index.manifest.get('created', '').replace('T', ' ')}）。")

    def choices(self):
        """Region and year dropdown updates from the current index."""
        regions, years = [], []
        if not self.not_ready():
            try:
                docs = self.pipeline.index.docs.values()
                regions = sorted({d.meta.get("region", "") for d in docs} - {""})
                years = sorted({str(d.meta["year"]) for d in docs if d.meta.get("year")})
            except IndexLoadError:
                pass
        return (gr.update(choices=[("全部", ALL)] + [(r, r) for r in regions]),
                gr.update(choices=[("全部", ALL)] + [(f"{y}年", y) for y in years]))

    def library_view(self):
        """(table rows, delete-dropdown update, problems markdown)."""
        if self.not_ready():
            return [], gr.update(choices=[], value=None), ""
        try:
            index = self.pipeline.index
        except IndexLoadError as e:
            return [], gr.update(choices=[], value=None), f"注意：{e}"
        reports = library.list_reports(index)
        rows = [[r.title, r.region, r.year or "", r.chunks, r.id] for r in reports]
        options = [(f"{r.title}（{r.id}）", r.id) for r in reports]
        errors = library.index_errors(index)
        problems = ""
        if errors:
            problems = "**以下文件未能索引：**\n\n" + "\n".join(f"- {e.error}" for e in errors)
        return rows, gr.update(choices=options, value=None), problems

    # 页面加载 ---------------------------------------------------------------------------------
    def on_load(self, progress=gr.Progress()):
        """Wait for the first build (with a progress bar), then fill filters and the library."""
        def report(done, total, what):
            progress((done, total) if total else None, desc=f"正在建立索引：{what}", unit="段")
        library.watch(self.job, report)
        region, year = self.choices()
        rows, options, problems = self.library_view()
        return self.status_text(), region, year, rows, options, problems

    # 问答 -------------------------------------------------------------------------------------
    def _cite_outputs(self, answer):
        sources = _sources(answer)
        numbered = bool(answer is not None and cite.numbered_citations(answer))
        labels = [(f"[{n}] {cite.citation_text(c)}" if numbered else cite.citation_text(c), str(n))
                  for n, c in enumerate(sources, start=1)]
        everything = "\n".join(label for label, _ in labels)
        first = self.on_pick("1", answer) if sources else ("", "")
        return (everything, gr.update(choices=labels, value="1" if sources else None), *first)

    def on_ask(self, question, region, year, level, part, use_llm=False):
        """A cited answer: (answer html, items table, cited passages html, state,
        全部出处, 出处选择, 出处, 原文)."""
        question = (question or "").strip()
        hidden = gr.update(value=[], visible=False)

        def message(html: str):
            return (html, hidden, "", None, *self._cite_outputs(None))

        if not question:
            return message('<div class="note">请输入问题，或点选下方的示例问题。</div>')
        problem = self.not_ready()
        if problem:
            return message(f'<div class="refusal">{problem}</div>')
        ask = getattr(self.pipeline, "ask", None)
        if ask is None:  # the answer stage is not installed: show the retrieved passages instead
            note, _, hits = self.on_search(question, region, year, level, part)
            return ('<div class="note">问答模块尚未就绪，以下为检索到的原文片段。</div>', hidden, hits, None,
                    *self._cite_outputs(None))
        try:
            answer = ask(question, filters=_filters(region, year, level, part), llm=bool(use_llm))
        except IndexLoadError as e:
            return message(f'<div class="refusal">{e}</div>')
        docs = self.docs()
        rows = cite.item_rows(answer)
        return (cite.answer_html(answer, docs, with_citations=False), gr.update(value=rows, visible=bool(rows)),
                cite.citations_html(answer, docs), answer, *self._cite_outputs(answer))

    def on_search(self, question, region, year, level, part):
        """Hybrid search: (heading html, hidden items table, the top passages, each openable with
        the matched span highlighted)."""
        hidden = gr.update(value=[], visible=False)
        question = (question or "").strip()
        if not question:
            return '<div class="note">请输入要检索的内容。</div>', hidden, ""
        problem = self.not_ready()
        if problem:
            return f'<div class="refusal">{problem}</div>', hidden, ""
        try:
            hits = self.pipeline.search(question, 8, _filters(region, year, level, part))
        except IndexLoadError as e:
            return f'<div class="refusal">{e}</div>', hidden, ""
        head = f'<div class="note">「{html.escape(question)}」的检索结果：{len(hits)} 条原文片段（按相关度排序）。</div>'
        return head, hidden, cite.hits_html(hits, self.docs())

    # 引用与简报 ---------------------------------------------------------------------------------
    def on_pick(self, choice, answer):
        """One passage's copy-ready citation and its highlighted original text."""
        sources = _sources(answer)
        try:
            c = sources[int(choice) - 1]
        except (TypeError, ValueError, IndexError):
            return "", '<div class="note">请先在「问答」页提问，再选择一条出处。</div>'
        return cite.citation_text(c), cite.citation_block(None, c, self.docs(), open_=True)

    def on_export(self, answer):
        """(DOCX path, Markdown path) of the current answer with its sources, or (None, None)."""
        if answer is None:
            return None, None
        folder = Path(tempfile.mkdtemp(dir=self.export_dir))  # one folder per export: no clashes
        docx_path = cite.write_docx(answer, folder / cite.export_name(answer.question, "docx"))
        md_path = cite.write_markdown(answer, folder / cite.export_name(answer.question, "md"))
        return str(docx_path), str(md_path)

    # 相似表述 ---------------------------------------------------------------------------------
    def on_similar(self, draft, k, region):
        draft = (draft or "").strip()
        if not draft:
            return '<div class="note">请粘贴要比对的文稿。</div>'
        problem = self.not_ready()
        if problem:
            return f'<div class="refusal">{problem}</div>'
        similar = getattr(self.pipeline, "similar", None)
        if similar is None:
            return '<div class="refusal">相似表述模块尚未就绪，请稍后再试。</div>'
        try:
            from rag.similar import char_diff
        except ImportError:
            char_diff = None
        filters = Filters(regions=[region]) if region else None
        try:
            results = similar(draft, k=int(k or 3), filters=filters)
        except IndexLoadError as e:
            return f'<div class="refusal">{e}</div>'
        return cite.similar_html(results, char_diff)

    # 文档库 -----------------------------------------------------------------------------------
    def _after_change(self, lines: list[str]):
        rows, options, problems = self.library_view()
        region, year = self.choices()
        return "\n".join(lines), rows, options, problems, region, year, self.status_text()

    def _progress(self, progress):
        def report(done, total, what):
            progress((done, total) if total else None, desc=f"更新索引：{what}", unit="段")
        return report

    def on_upload(self, files, progress=gr.Progress()):
        """Save the uploaded files into the corpus and re-index incrementally."""
        problem = self.not_ready() if self.job is not None and self.job.running else None
        if problem:
            return self._after_change([f"注意：{problem}"])
        paths = [Path(f if isinstance(f, str) else getattr(f, "name", f)) for f in (files or [])]
        if not paths:
            return self._after_change(["请先选择要上传的文件（支持 " + "、".join(UPLOAD_TYPES) + "）。"])
        result = library.add_files(self.pipeline, [(p.name, p) for p in paths], progress=self._progress(progress))
        lines = []
        for s in result.saved:
            lines.append(f"- **已{'更新' if s.replaced else '添加'}**：「{s.name}」")
        for e in result.errors:
            lines.append(f"- **未能上传**：{e.error}")
        r = result.report
        if r is not None:
            lines.append(f"\n索引已更新：共 {r.documents} 份报告、{r.chunks} 个片段，"
                         f"本次新计算向量 {r.embedded} 个，复用 {r.reused} 个。")
            saved = {s.name for s in result.saved}
            lines += [f"- **未能索引**：{e.error}" for e in r.errors if e.file in saved]
        return self._after_change(lines)

    def on_delete(self, doc_id, progress=gr.Progress()):
        """Delete one report from the corpus folder and re-index."""
        if self.job is not None and self.job.running:
            return self._after_change([f"注意：{self.not_ready()}"])
        if not doc_id:
            return self._after_change(["未删除任何报告（没有选择报告，或已取消）。"])
        try:
            r = library.remove_report(self.pipeline, doc_id, progress=self._progress(progress))
        except library.UploadError as e:
            return self._after_change([f"**未能删除**：{e.message}"])
        return self._after_change([f"**已删除**「{doc_id}」，索引已更新：共 {r.documents} 份报告、{r.chunks} 个片段。"])

    def on_refresh(self):
        rows, options, problems = self.library_view()
        return rows, options, problems, self.status_text()


# --- layout ----------------------------------------------------------------------------------

def build_app(pipeline: Pipeline, job: library.IndexJob | None = None) -> gr.Blocks:
    """The four-tab app over `pipeline`; `job` is a first build still running (or None)."""
    h = Handlers(pipeline, job)
    llm_available = bool(pipeline.config.llm_base_url)
    with gr.Blocks(title="科技工作报告 · 检索问答", analytics_enabled=False) as app:
        gr.Markdown("## 科技局工作报告 · 语义检索与带出处问答")
        status = gr.Markdown(h.status_text(), elem_id="status", min_height=48)
        answer_state = gr.State(None)

        with gr.Tabs():
            with gr.Tab("问答", id="qa"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        question = gr.Textbox(label="问题", lines=2, elem_id="question",
                                              placeholder="例如：哪些区获批了省级技术创新中心？")
                        with gr.Row():
                            ask_btn = gr.Button("提问", variant="primary", elem_id="ask-btn")
                            search_btn = gr.Button("只检索原文", elem_id="search-btn")
                        gr.Examples([[q] for q in EXAMPLES], inputs=[question], label="示例问题")
                    with gr.Column(scale=2, min_width=260):
                        region = gr.Dropdown([("全部", ALL)], value=ALL, label="地区", allow_custom_value=True)
                        year = gr.Dropdown([("全部", ALL)], value=ALL, label="年份", allow_custom_value=True)
                        with gr.Row():
                            level = gr.Dropdown(LEVELS, value=ALL, label="报告层级", min_width=100)
                            part = gr.Dropdown(PARTS, value=ALL, label="内容", min_width=100)
                        use_llm = gr.Checkbox(False, label="用大模型组织回答（已配置）", visible=llm_available)
                answer_html = gr.HTML(elem_id="answer")
                items = gr.Dataframe(headers=ITEM_HEADERS, visible=False, wrap=True, interactive=False,
                                     label="清单", column_widths=["10%", "30%", "12%", "8%", "40%"],
                                     elem_id="items")
                passages_html = gr.HTML(elem_id="passages")

            with gr.Tab("相似表述", id="similar"):
                draft = gr.Textbox(label="文稿", lines=8, elem_id="draft",
                                   placeholder="粘贴一段文稿，逐句查找报告中的相似表述……")
                with gr.Row():
                    sim_k = gr.Slider(1, 10, value=3, step=1, label="每句最多显示条数")
                    sim_region = gr.Dropdown([("全部", ALL)], value=ALL, label="只在某地区的报告中查找",
                                             allow_custom_value=True)
                sim_btn = gr.Button("查找相似表述", variant="primary", elem_id="similar-btn")
                sim_html = gr.HTML(elem_id="similar-result")

            with gr.Tab("文档库", id="library"):
                with gr.Row():
                    with gr.Column(scale=2):
                        upload = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, label="上传报告（可多选）",
                                         elem_id="upload")
                        upload_btn = gr.Button("上传并更新索引", variant="primary", elem_id="upload-btn")
                    with gr.Column(scale=3):
                        lib_msg = gr.Markdown(LIBRARY_HINT, elem_id="library-message")
                with gr.Row():
                    delete_pick = gr.Dropdown([], label="选择要删除的报告", allow_custom_value=True, scale=4,
                                              elem_id="delete-pick")
                    delete_btn = gr.Button("删除报告", variant="stop", scale=1, elem_id="delete-btn")
                    refresh_btn = gr.Button("刷新", scale=1)
                lib_table = gr.Dataframe(headers=LIBRARY_HEADERS, interactive=False, wrap=True, label="已索引的报告",
                                         elem_id="library-table", max_height=600)
                lib_problems = gr.Markdown()

            with gr.Tab("引用与简报", id="cite"):
                gr.Markdown("提问后，这里列出回答引用的每条出处，可直接复制；也可把回答连同出处导出为 Word 或 Markdown。")
                cite_all = gr.Textbox(label="全部出处", lines=6, max_lines=20, interactive=False, buttons=["copy"],
                                      elem_id="cite-all")
                cite_pick = gr.Dropdown([], label="选择一条出处", elem_id="cite-pick", allow_custom_value=True)
                cite_one = gr.Textbox(label="出处（可复制）", interactive=False, buttons=["copy"], elem_id="cite-one")
                cite_passage = gr.HTML(elem_id="cite-passage")
                with gr.Row():
                    docx_btn = gr.DownloadButton("导出 Word（DOCX）", elem_id="export-docx")
                    md_btn = gr.DownloadButton("导出 Markdown", elem_id="export-md")

        # events: every handler has an api_name so gradio_client can drive it; helpers are private
        filters = [question, region, year, level, part]
        ask_outputs = [answer_html, items, passages_html, answer_state, cite_all, cite_pick, cite_one, cite_passage]
        ask_btn.click(h.on_ask, filters + [use_llm], ask_outputs, api_name="ask").then(
            h.on_export, [answer_state], [docx_btn, md_btn], api_name="export")
        question.submit(h.on_ask, filters + [use_llm], ask_outputs, api_visibility="private").then(
            h.on_export, [answer_state], [docx_btn, md_btn], api_visibility="private")
        search_btn.click(h.on_search, filters, [answer_html, items, passages_html], api_name="search")
        cite_pick.input(h.on_pick, [cite_pick, answer_state], [cite_one, cite_passage], api_name="cite")
        sim_btn.click(h.on_similar, [draft, sim_k, sim_region], [sim_html], api_name="similar")

        change_outputs = [lib_msg, lib_table, delete_pick, lib_problems, region, year, status]
        upload_btn.click(h.on_upload, [upload], change_outputs, api_name="upload",
                         concurrency_limit=1, concurrency_id="corpus").then(
            lambda: None, None, [upload], api_visibility="private")
        delete_btn.click(h.on_delete, [delete_pick], change_outputs, api_name="delete",
                         concurrency_limit=1, concurrency_id="corpus", js=CONFIRM_DELETE)
        refresh_btn.click(h.on_refresh, None, [lib_table, delete_pick, lib_problems, status], api_name="library")
        app.load(h.on_load, None, [status, region, year, lib_table, delete_pick, lib_problems],
                 api_name="status", concurrency_limit=None, show_progress_on=[status]).then(
            lambda: h.choices()[0], None, [sim_region], api_visibility="private")
    app.handlers = h  # for tests and embedding
    return app


# --- entry point -----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="科技局工作报告检索问答网页界面")
    parser.add_argument("--host", help="监听地址（默认 127.0.0.1；其他地址需设置登录口令）")
    parser.add_argument("--port", type=int, help="端口（默认 7860）")
    parser.add_argument("--corpus", help="语料目录（默认 corpus/）")
    parser.add_argument("--index", help="索引目录（默认 index/）")
    args = parser.parse_args(argv)
    config = Config.from_env(host=args.host, port=args.port,
                             corpus_dir=Path(args.corpus) if args.corpus else None,
                             index_dir=Path(args.index) if args.index else None)
    try:
        launch_auth(config.host)  # refuse before any work when bound beyond loopback without login
    except StartupError as e:
        print(str(e), file=sys.stderr)
        sys.exit(1)
    pipeline = Pipeline(config)
    job = None
    if not pipeline.has_index():
        print(f"首次运行：正在从「{config.corpus_dir}」建立索引（网页已可打开，页面上会显示进度）……", file=sys.stderr)
        job = library.IndexJob(pipeline, show_bar=True).start()
    app = build_app(pipeline, job)
    print(f"请在浏览器打开 http://{config.host}:{config.port}", file=sys.stderr)
    launch(app, config.host, config.port, max_file_size=config.max_file_bytes)


if __name__ == "__main__":
    main()
