"""Turn loaded documents into chunks: clean → metadata → chunk, for a whole corpus at once.

Metadata needs a corpus-wide second pass (a district's city is read off the city reports),
so this stage works on the list, not file by file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from .chunk import chunk_document
from .clean import Cleaned, clean
from .meta import assign_cities, extract_meta, split_title
from .types import Chunk, Document


@dataclass
class Prepared:
    doc: Document
    cleaned: Cleaned
    chunks: list[Chunk]


def _inferred_title(doc: Document, meta: dict) -> str:
    bureau = f"{meta['region']}科技局" if meta.get("region") else ""
    year = f"{meta['year']}年" if meta.get("year") else ""
    if bureau or year:
        return f"{bureau}{year}工作报告"
    return PurePosixPath(doc.id).stem


def prepare(docs: list[Document], *, max_chars: int = 450, min_chars: int = 50) -> list[Prepared]:
    """Clean, describe and chunk every document; titles and metadata are set on the documents."""
    staged = []
    for doc in docs:
        cleaned = clean(doc.text)
        title, body_start = split_title(cleaned.text)
        meta = extract_meta(title, cleaned.text[body_start:], doc.id)
        meta["title_inferred"] = not title
        doc.meta = {**doc.meta, **meta}
        doc.title = title or _inferred_title(doc, meta)
        staged.append((doc, cleaned, body_start))
    assign_cities([(d.meta, c.text) for d, c, _ in staged])
    return [
        Prepared(doc, cleaned, chunk_document(doc, cleaned, body_start, max_chars=max_chars, min_chars=min_chars))
        for doc, cleaned, body_start in staged
    ]
