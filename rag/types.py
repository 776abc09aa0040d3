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


@dataclass
class SimilarMatch:
    """An earlier report's sentence close to one draft sentence (see rag.similar)."""
    doc: str
    title: str
    region: str
    year: int | None
    section: list[str]
    start: int  # [start, end) of the sentence in the decoded original text
    end: int
    text: str
    score: float  # fused similarity, 0 … 1
    diff: list[tuple[str, str]] = field(default_factory=list)  # char_diff(draft sentence, text)
    also: list[dict] = field(default_factory=list)  # the same sentence elsewhere (另见 N 处)
    dense: float | None = None  # cosine of the embeddings
    lexical: float | None = None  # character-bigram cosine

    @property
    def also_note(self) -> str:
        return f"另见 {len(self.also)} 处" if self.also else ""

    def to_dict(self) -> dict:
        return {
            "doc": self.doc, "title": self.title, "region": self.region, "year": self.year,
            "section": self.section, "start": self.start, "end": self.end, "text": self.text,
            "score": self.score, "diff": [list(op) for op in self.diff], "also": self.also,
            "also_note": self.also_note, "dense": self.dense, "lexical": self.lexical,
        }


@dataclass
class SentenceMatches:
    """One sentence of a draft and its closest earlier sentences."""
    sentence: str
    matches: list[SimilarMatch] = field(default_factory=list)
    note: str = ""  # "未找到相似表述" when nothing passes the minimum similarity

    def to_dict(self) -> dict:
        return {"sentence": self.sentence, "matches": [m.to_dict() for m in self.matches], "note": self.note}
