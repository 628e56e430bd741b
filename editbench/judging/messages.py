"""Every message between a worker and its judge interpreter, written down once.

Builtin types only (str, bytes, int, float, bool, list, dict, None): execnet's serializer
refuses anything else. Each message carries `version`; the server (which cannot import this
module) speaks `server.PROTOCOL`, and a test keeps the two equal.
"""

from __future__ import annotations

from typing import TypedDict

VERSION = 1


class BackendOptions(TypedDict):
    model: str | None
    revision: str | None
    dtype: str
    device: str
    max_pixels: int
    scores: dict[str, float]


class SetupRequest(TypedDict):
    """First message: which backend to load, once, and whose death ends the judge."""

    version: int
    kind: str  # "setup"
    backend: str
    options: BackendOptions
    parent_pid: int


class Versions(TypedDict):
    python: str
    executable: str
    torch: str | None
    transformers: str | None


class ReadyReply(TypedDict):
    version: int
    kind: str  # "ready"
    pid: int
    versions: Versions
    info: dict
    load_s: float


class ScoreItem(TypedDict):
    """One dimension of one case: its rendered prompt and the PNG bytes of the images it sees."""

    dimension: str
    prompt: str
    images: list[bytes]


class Decoding(TypedDict):
    max_new_tokens: int
    temperature: float
    samples: int
    seed: int


class ScoreRequest(TypedDict):
    version: int
    kind: str  # "score"
    id: str
    method: str  # "logit" | "generate"
    items: list[ScoreItem]
    decoding: Decoding


class ItemResult(TypedDict):
    """logit: score, mass (probability on valid scores) and P(0..10); generate: the sampled texts."""

    dimension: str
    score: float | None
    mass: float | None
    probs: list[float]
    texts: list[str]


class ScoreReply(TypedDict):
    version: int
    kind: str  # "scored"
    id: str
    results: list[ItemResult]
    seconds: float
    versions: Versions


class ErrorReply(TypedDict):
    """An exception inside the judge (id None: while loading the backend)."""

    version: int
    kind: str  # "error"
    id: str | None
    error: str


class CloseRequest(TypedDict):
    version: int
    kind: str  # "close"


SHAPES = (SetupRequest, ReadyReply, ScoreRequest, ScoreReply, ErrorReply, CloseRequest)
