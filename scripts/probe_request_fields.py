"""Probes every field of every request body the API routes take, and counts
what each accepts that it should not (issue 10, outcomes 5 and 6):

- integer fields (money, quantities, counts) given `true`, `"<n>"` or `<n>.0`
  for an n the field would take;
- text fields given a value they take with a control, bidirectional or
  invisible formatting character put in (NUL, BEL, ESC, DEL, C1, CR, U+2028,
  U+202E, U+2066, U+200F, a lone surrogate), and single-line fields given a
  line break or a tab;
- file-name fields given `.`, `..`, a path, a name ending in a dot or space,
  or a Windows device name.

The body models come from the routers (the same Powertools routes the
functions serve), so a new route's body is probed without listing it here.
Validation is pydantic's, the way Powertools runs it on a body: a probe
"passes" a field when validating a body holding it reports no error at that
field's location.

    .venv/bin/python scripts/probe_request_fields.py       # figures, one line per accepting field
"""
from __future__ import annotations

import os
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT / "layers" / "shared" / "python", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
os.environ.setdefault("STAGE", "local")

from pydantic import BaseModel, TypeAdapter, ValidationError  # noqa: E402

INT_PROBES = ("true", "string", "float")
TEXT_PROBES = {
    "NUL": "\x00", "BEL": "\x07", "ESC": "\x1b", "DEL": "\x7f", "C1 NEL": "\x85", "C1 CSI": "\x9b", "CR": "\r",
    "LINE SEPARATOR": "\u2028", "RLO U+202E": "\u202e", "LRI U+2066": "\u2066", "RLM U+200F": "\u200f",
    "ZWSP U+200B": "\u200b", "lone surrogate": "\ud800",
}
LINE_PROBES = {"LF": "\n", "TAB": "\t"}
FILE_NAME_PROBES = (".", "..", "a/b.txt", "a\\b.txt", "notes.", "notes ", "CON", "nul.txt", "Com1.pdf", "lpt9")
TEXT_BASES = ("ab", "https://img.example.com/a.jpg", "notes.txt", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "13800138000",
              "text/plain", "a")


@dataclass
class Leaf:
    model: str
    path: tuple[Any, ...]          # location inside the body, list positions as 0
    kind: str                       # "int" or "str"
    file_name: bool = False
    accepted: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.model}." + ".".join(str(p) for p in self.path if p != 0)


def body_models() -> list[type[BaseModel]]:
    from livecommerce.http_routers import router_builders
    from livecommerce.shared.openapi import build_docs_api

    app = build_docs_api(router_builders()).app
    seen: dict[str, type[BaseModel]] = {}
    for route in [*app._static_routes, *app._dynamic_routes]:
        for param in route.dependant.body_params:
            model = param.type_
            if isinstance(model, type) and issubclass(model, BaseModel):
                seen.setdefault(f"{model.__module__}.{model.__qualname__}", model)
    return list(seen.values())


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    return annotation


def leaves(model: type[BaseModel], prefix: tuple[Any, ...] = (), name: str | None = None) -> Iterator[Leaf]:
    name = name or model.__name__
    for field_name, info in model.model_fields.items():
        yield from _leaves_of(info.annotation, prefix + (info.alias or field_name,), name, field_name)


def _leaves_of(annotation: Any, path: tuple[Any, ...], model: str, field_name: str) -> Iterator[Leaf]:
    inner = _strip_optional(annotation)
    origin = typing.get_origin(inner)
    if origin in (list, tuple, set, frozenset):
        yield from _leaves_of(typing.get_args(inner)[0], path + (0,), model, field_name)
    elif isinstance(inner, type) and issubclass(inner, BaseModel):
        yield from leaves(inner, path, model)
    elif inner is int:
        yield Leaf(model, path, "int")
    elif inner is str:
        yield Leaf(model, path, "str", file_name="filename" in field_name or field_name == "file_name")


def _body(path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    return [_body(rest, value)] if head == 0 else {head: _body(rest, value)}


def _loc_matches(loc: tuple[Any, ...], path: tuple[Any, ...]) -> bool:
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("function-before", "function-after"))))
    return loc[:len(path)] == path


def accepts(model: type[BaseModel], path: tuple[Any, ...], value: Any) -> bool:
    """Whether validating a body that holds `value` at `path` reports no error there."""
    try:
        TypeAdapter(model).validate_python(_body(path, value))
    except ValidationError as exc:
        return not any(_loc_matches(tuple(e["loc"]), path) for e in exc.errors())
    return True


def _valid_int(model: type[BaseModel], path: tuple[Any, ...]) -> int | None:
    for candidate in (1, 10, 60, 100, 600, 1000, 0):
        if accepts(model, path, candidate):
            return candidate
    return None


def _valid_text(model: type[BaseModel], path: tuple[Any, ...]) -> str | None:
    for candidate in TEXT_BASES:
        if accepts(model, path, candidate):
            return candidate
    return None


def probe(model: type[BaseModel], leaf: Leaf) -> Leaf:
    if leaf.kind == "int":
        n = _valid_int(model, leaf.path)
        if n is None:
            return leaf
        for label, value in (("string", str(n)), ("float", float(n)), ("true", True)):
            if label == "true" and not accepts(model, leaf.path, 1):
                continue  # true would be 1, which the bounds refuse anyway
            if accepts(model, leaf.path, value):
                leaf.accepted.append(label)
        return leaf
    base = _valid_text(model, leaf.path)
    if base is None:
        return leaf
    middle = len(base) // 2 or 1
    for label, ch in TEXT_PROBES.items():
        if accepts(model, leaf.path, base[:middle] + ch + base[middle:]):
            leaf.accepted.append(label)
    for label, ch in LINE_PROBES.items():
        if accepts(model, leaf.path, base[:middle] + ch + base[middle:]):
            leaf.accepted.append(label)
    if leaf.file_name:
        for name in FILE_NAME_PROBES:
            if accepts(model, leaf.path, name):
                leaf.accepted.append(repr(name))
    return leaf


def run() -> list[Leaf]:
    out = []
    for model in body_models():
        for leaf in leaves(model):
            out.append(probe(model, leaf))
    return out


def figures(results: list[Leaf]) -> dict[str, int]:
    ints = [r for r in results if r.kind == "int"]
    texts = [r for r in results if r.kind == "str"]
    return {
        "body models": len({r.model for r in results}),
        "integer fields": len(ints),
        "integer fields accepting non-integers": sum(1 for r in ints if r.accepted),
        "text fields": len(texts),
        "text fields accepting control/bidi/invisible characters": sum(
            1 for r in texts if set(r.accepted) & set(TEXT_PROBES)),
        "text fields accepting a line break or tab": sum(1 for r in texts if set(r.accepted) & set(LINE_PROBES)),
        "file-name fields": sum(1 for r in texts if r.file_name),
        "file-name fields accepting unsafe names": sum(
            1 for r in texts if r.file_name and any(a.startswith("'") for a in r.accepted)),
    }


def main() -> None:
    results = run()
    for r in results:
        if r.accepted:
            print(f"  {r.kind:3} {r.name:50} accepts {', '.join(r.accepted)}")
    for label, count in figures(results).items():
        print(f"{label}: {count}")


if __name__ == "__main__":
    main()
