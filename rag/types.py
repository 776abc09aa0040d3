"""Plain dataclasses that flow between pipeline stages.

Every span (`start`, `end`) is a half-open character range into `Document.text`,
the decoded original text of the file, so a citation can be shown and checked in place.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Document:
    id: str  # path relative to the corpus folder, with forward slashes
    title: str
    text: str  # decoded original text (never rewritten)
    meta: dict = field(default_factory=dict)  # region, city, level, year, plan_year, kind


@dataclass
class Chunk:
    id: str  # "<doc id>#<n>"
    doc: str
    title: str
    section: list[str]
    start: int
    end: int
    text: str  # cleaned text shown to the user; its characters all lie in original[start:end]
    part: str = "other"  # achievement | plan | problems | other
    region: str = ""
    level: str = ""
    year: int | None = None

    def embed_text(self) -> str:
        """Contextual text for the embedder: title + section path + chunk."""
        head = " > ".join([self.title, *self.section])
        return f"{head}\n{self.text}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Hit:
    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None

    def to_dict(self) -> dict:
        c = self.chunk
        return {
            "doc": c.doc, "title": c.title, "section": c.section, "start": c.start, "end": c.end,
            "text": c.text, "score": round(float(self.score), 6), "region": c.region, "year": c.year,
            "part": c.part,
        }


@dataclass
class Citation:
    doc: str
    title: str
    section: list[str]
    start: int
    end: int
    quote: str  # the cleaned text of original[start:end]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Claim:
    text: str
    citations: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"text": self.text, "citations": [c.to_dict() for c in self.citations]}


@dataclass
class Item:
    """One row of a list answer (e.g. a region with an approved provincial centre)."""
    region: str
    name: str
    status: str  # approved | applied | planned
    level: str  # national | provincial | city | district
    year: int | None
    kind: str = ""
    citations: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["citations"] = [c.to_dict() for c in self.citations]
        return d


@dataclass
class Answer:
    question: str
    text: str
    refused: bool = False
    claims: list[Claim] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    related: list[Hit] = field(default_factory=list)  # offered as 相关内容 when refused
    notes: list[str] = field(default_factory=list)  # warnings (e.g. LLM fell back)

    def to_dict(self) -> dict:
        return {
            "question": self.question, "answer": self.text, "refused": self.refused,
            "claims": [c.to_dict() for c in self.claims],
            "items": [i.to_dict() for i in self.items],
            "related": [h.to_dict() for h in self.related],
            "notes": self.notes,
        }


@dataclass
class IngestError:
    file: str
    error: str  # Chinese, names the file

    def to_dict(self) -> dict:
        return asdict(self)
