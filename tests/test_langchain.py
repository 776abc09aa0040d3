"""The LangChain retriever (rag.integrations.langchain) over the real index, used through `.invoke`."""
from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from rag.facts import quote_of
from rag.integrations.langchain import PolicyRagRetriever

pytestmark = pytest.mark.slow  # needs the session index of the whole corpus


def test_invoke_returns_cited_documents(built_index):
    retriever = PolicyRagRetriever(pipeline=built_index, k=3)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("滨海区2022年技术合同成交额是多少？")
    assert 0 < len(docs) <= 3 and all(isinstance(d, Document) for d in docs)
    texts = {d.id: d.text for d in built_index.index.docs.values()}
    for d in docs:
        m = d.metadata
        assert set(m) >= {"doc", "title", "section", "start", "end", "region", "year", "score"}
        assert d.page_content == quote_of(texts[m["doc"]], m["start"], m["end"])
    # The region and year named in the query filter by themselves.
    assert all(d.metadata["region"] == "滨海区" for d in docs)
    assert any("51.3亿元" in d.page_content for d in docs)


def test_filters_set_on_the_retriever(built_index):
    retriever = PolicyRagRetriever(pipeline=built_index, k=4, region="云台区", year=2022, part="plan")
    docs = retriever.invoke("科技特派员")
    assert docs and all(d.metadata["region"] == "云台区" and d.metadata["part"] == "plan" for d in docs)


def test_from_index_and_batch(built_index):
    retriever = PolicyRagRetriever.from_index(built_index.config.index_dir, k=2)
    results = retriever.batch(["海水稻示范种植", "功率半导体技术创新中心"])
    assert len(results) == 2 and all(len(r) == 2 for r in results)
    assert any("海水稻" in d.page_content for d in results[0])
