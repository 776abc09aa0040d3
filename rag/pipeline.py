"""The assembled pipeline that the CLI, the UI and integrations share.

It owns the configuration, the embedder (loaded once) and the current index; stages stay
independent and talk through the dataclasses in `rag.types`.
"""
from __future__ import annotations

import threading
from pathlib import Path

from .build import BuildReport, Progress, build_index
from .config import Config
from .embed import Embedder, make_embedder
from .retrieve import Filters, Retriever
from .store import StoredIndex, current_build, index_exists, load_index
from .tokenize import Tokenizer
from .types import Hit


class Pipeline:
    def __init__(self, config: Config, embedder: Embedder | None = None):
        self.config = config
        self._embedder = embedder
        self._tokenizer: Tokenizer | None = None
        self._index: StoredIndex | None = None
        self._retriever: Retriever | None = None
        self._lock = threading.RLock()  # guards the loaded index and retriever
        self._build_lock = threading.Lock()  # one build at a time; readers keep the old index meanwhile

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.config.embedder, self.config.st_query_prompt,
                                           self.config.st_passage_prompt)
        return self._embedder

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            self._tokenizer = Tokenizer()
        return self._tokenizer

    def has_index(self) -> bool:
        return index_exists(self.config.index_dir)

    def build(self, corpus_dir: Path | None = None, *, progress: Progress | None = None,
              show_bar: bool = True) -> BuildReport:
        """(Re)build the index from the corpus folder; only new or changed text is embedded.

        Searches go on against the current index while this runs: the new build is switched in
        atomically and picked up by `index` on the next call.
        """
        with self._build_lock:
            return build_index(corpus_dir or self.config.corpus_dir, self.config.index_dir, self.embedder,
                               self.config, progress=progress, show_bar=show_bar, tokenizer=self.tokenizer)

    @property
    def index(self) -> StoredIndex:
        """The current index, reloaded when another process has switched in a newer build."""
        with self._lock:
            live = current_build(self.config.index_dir)
            if self._index is None or (live is not None and live != self._index.path):
                self._index = load_index(self.config.index_dir, model=self.embedder.name)
                self._retriever = None
            return self._index

    @property
    def retriever(self) -> Retriever:
        with self._lock:
            index = self.index
            if self._retriever is None or self._retriever.index is not index:
                self._retriever = Retriever(index, self.embedder, self.config, self.tokenizer)
            return self._retriever

    def search(self, query: str, k: int = 10, filters: Filters | None = None, *, auto: bool = True) -> list[Hit]:
        return self.retriever.search(query, k, filters, auto=auto)

    def similar(self, text: str, k: int = 5, filters: Filters | None = None, *,
                exclude_docs: set[str] | None = None, min_score: float | None = None) -> list:
        """Closest earlier sentences for each sentence of a draft (list of `SentenceMatches`, see rag.similar)."""
        from .similar import SimilarIndex

        with self._lock:
            index = self.index
            searcher = getattr(self, "_similar_index", None)
            if searcher is None or searcher.index is not index:
                searcher = SimilarIndex(index, self.embedder)
                self._similar_index = searcher
        return searcher.search(text, k, filters, exclude_docs=exclude_docs, min_score=min_score)

    def ask(self, question: str, filters: Filters | None = None, llm: bool = False):
        """A cited answer (rag.types.Answer). Offline by default (rag.answer); with `llm`, an
        OpenAI-compatible model writes it from numbered passages and every sentence is checked
        against the passage it cites (rag.llm), falling back to the offline answer on failure."""
        if llm:
            from .llm import answer_with_llm

            return answer_with_llm(self, question, filters)
        from .answer import answer_question

        return answer_question(self, question, filters)
