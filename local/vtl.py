"""API Gateway's mapping-template language, locally: Velocity (airspeed-ext, a Velocity engine
made for AWS templates) with the variables API Gateway gives a template: `$input` (path, json,
params, body), `$util` (base64Encode/Decode, escapeJavaScript, parseJson, urlEncode), `$context`
(with `responseOverride`, read back after rendering).

Only what our templates use is emulated, and each piece as AWS documents it ("API Gateway mapping
template and access logging variable reference"). `$input.path` takes the JSONPath forms `$` and
`$.a.b` (what our templates write); anything else raises rather than guess.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import airspeed


class _Input:
    def __init__(self, body: str, params: dict[str, dict[str, str]]) -> None:
        self.body = body
        self._params = params
        self._parsed: Any = None
        self._loaded = False

    def _doc(self) -> Any:
        if not self._loaded:
            self._parsed = json.loads(self.body) if self.body.strip() else {}
            self._loaded = True
        return self._parsed

    def path(self, expression: str) -> Any:
        if expression == "$":
            return self._doc()
        if not expression.startswith("$."):
            raise ValueError(f"unsupported JSONPath {expression!r}")
        node = self._doc()
        for part in expression[2:].split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def json(self, expression: str) -> str:
        return json.dumps(self.path(expression))

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return self._params
        for where in ("path", "querystring", "header"):
            if name in self._params.get(where, {}):
                return self._params[where][name]
        return ""


class _Util:
    @staticmethod
    def base64Encode(text: Any) -> str:  # noqa: N802 - API Gateway's names
        return base64.b64encode(str(text).encode("utf-8")).decode("ascii")

    @staticmethod
    def base64Decode(text: Any) -> str:  # noqa: N802
        return base64.b64decode(str(text)).decode("utf-8")

    @staticmethod
    def escapeJavaScript(text: Any) -> str:  # noqa: N802
        return json.dumps(str(text), ensure_ascii=False)[1:-1].replace("'", "\\'")

    @staticmethod
    def parseJson(text: Any) -> Any:  # noqa: N802
        return json.loads(str(text))

    @staticmethod
    def urlEncode(text: Any) -> str:  # noqa: N802
        return quote(str(text), safe="")


@dataclass
class Rendered:
    text: str
    status_override: int | None = None
    header_overrides: dict[str, str] = field(default_factory=dict)


_templates: dict[str, airspeed.Template] = {}


def render(template: str, *, context: dict[str, Any], body: str = "",
           params: dict[str, dict[str, str]] | None = None) -> Rendered:
    """Render `template` as API Gateway does; `context` is `$context` (requestId, requestTimeEpoch,
    identity.sourceIp, authorizer.*, ...)."""
    compiled = _templates.get(template)
    if compiled is None:
        compiled = _templates[template] = airspeed.Template(template)
    ctx = json.loads(json.dumps(context))     # a copy the template may write to
    ctx.setdefault("responseOverride", {}).setdefault("header", {})
    text = compiled.merge({"input": _Input(body, params or {}), "util": _Util(), "context": ctx})
    override = ctx["responseOverride"]
    status = override.get("status")
    return Rendered(text=text.strip(), status_override=int(status) if status is not None else None,
                    header_overrides={k: str(v) for k, v in (override.get("header") or {}).items()})
