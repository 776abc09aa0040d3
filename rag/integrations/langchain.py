"""A LangChain retriever over a policy-rag index, for use in any LangChain chain or agent.

    from rag.integrations.langchain import PolicyRagRetriever
    retriever = PolicyRagRetriever.from_index("index")
    docs = retriever.invoke("滨海区2022年技术合同成交额是多少？")

Each result is a `langchain_core.documents.Document` whose page_content is the cleaned chunk
text and whose metadata cites it: doc, title, section, start, end (a range of the decoded
original file), region, year, part and score.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from ..config import Config
from ..pipeline import Pipeline
from ..retrieve import Filters


class PolicyRagRetriever(BaseRetriever):
    """Hybrid (dense + BM25) search of the reports; region and year in the query filter by themselves."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    pipeline: Any = Field(description="a rag.pipeline.Pipeline with a built index")
    k: int = 5
    region: str | None = None
    year: int | None = None
    part: str | None = None  # achievement | plan | problems

    @classmethod
    def from_index(cls, index_dir: str | Path = "index", **kwargs) -> "PolicyRagRetriever":
        config = Config.from_env(index_dir=Path(index_dir))
        return cls(pipeline=Pipeline(config), **kwargs)

    def _filters(self) -> Filters:
        return Filters(regions=[self.region] if self.region else [], year=self.year, part=self.part)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.pipeline.search(query, self.k, self._filters())
        return [
            Document(
                page_content=h.chunk.text,
                metadata={
                    "doc": h.chunk.doc, "title": h.chunk.title, "section": list(h.chunk.section),
                    "start": h.chunk.start, "end": h.chunk.end, "region": h.chunk.region,
                    "year": h.chunk.year, "part": h.chunk.part, "score": float(h.score),
                },
            )
            for h in hits
        ]
