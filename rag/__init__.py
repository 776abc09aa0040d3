"""policy-rag: semantic search and cited answers over Chinese S&T bureau work reports.

Stages, one module each: load → clean → meta → chunk (ingest) → embed → store (build) →
retrieve → answer / similar → cite; `cli` and `ui.py` only wire them together.
"""
__version__ = "0.1.0"
