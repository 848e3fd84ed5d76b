"""Schemathesis over the OpenAPI document the local stack serves.

Every operation gets a bounded number of generated cases, positive (data that fits
the schema) and negative (data that does not), drawn deterministically
(`derandomize=True`: the same cases on every run and every machine). Each case is
sent twice, with a host's token and with a viewer's, and every response goes
through every check Schemathesis has (`not_a_server_error`, `status_code_conformance`,
`content_type_conformance`, `response_headers_conformance`,
`response_schema_conformance`, `negative_data_rejection`, `positive_data_acceptance`,
`ignored_auth`, ...), one at a time so each failure is counted under its check.

Used by tests/e2e/shared/test_openapi_fuzz.py (`make test`) and on its own against a
running stack, to measure:

    python tests/e2e/shared/api_fuzz.py http://127.0.0.1:8000 [max_examples]
"""
from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import Failure, FailureGroup

MAX_EXAMPLES = 10   # per operation and generation mode: 1,142 cases, 2,284 requests (host and viewer)
USERS = ("host-1", "viewer-1")   # seeded by the local stack (dev login)
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@dataclass
class Finding:
    operation: str
    check: str
    user: str
    mode: str
    status: int
    code: str       # the problem's `code` when the answer is a problem
    title: str
    curl: str

    def line(self) -> str:
        return (f"{self.check:28} {self.operation:55} {self.user:8} {self.mode:8} {self.status} "
                f"{self.code or '-':22} {self.title}")


@dataclass
class Summary:
    operations: int = 0
    cases: int = 0
    requests: int = 0
    seconds: float = 0.0
    max_examples: int = MAX_EXAMPLES
    statuses: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)

    @property
    def by_check(self) -> Counter:
        return Counter(f.check for f in self.findings)

    @property
    def server_errors(self) -> int:
        """Responses with a 5xx status (each one is also a `not_a_server_error` finding)."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def unique(self) -> dict[tuple[str, str, int, str], Finding]:
        """One finding per (check, operation, status, title): the distinct problems."""
        seen: dict[tuple[str, str, int, str], Finding] = {}
        for f in self.findings:
            seen.setdefault((f.check, f.operation, f.status, f.code, f.title), f)
        return seen

    def report(self) -> str:
        lines = [
            f"schemathesis {schemathesis.__version__}: {self.operations} operations, {self.cases} cases "
            f"({self.max_examples} max per operation and mode, positive+negative), {self.requests} requests "
            f"as {' and '.join(USERS)}, {self.seconds:.0f} s",
            "statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items())),
            f"5xx responses: {self.server_errors}; "
            f"schema violations: {self.by_check.get('response_schema_conformance', 0)}; "
            f"undocumented status codes: {self.by_check.get('status_code_conformance', 0)}",
            "failures by check: " + (", ".join(f"{c}: {n}" for c, n in sorted(self.by_check.items())) or "none"),
        ]
        if self.findings:
            lines.append(f"distinct problems ({len(self.unique())}):")
            lines += ["  " + f.line() for f in sorted(self.unique().values(),
                                                      key=lambda f: (f.check, f.operation, f.status))]
        return "\n".join(lines)


def login(base_url: str, user: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/v1/auth/login", method="POST",
        data=json.dumps({"provider": "dev", "code": user}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["token"]


def _checks() -> list[Any]:
    load_all_checks()
    return list(CHECKS.get_all())


def _draw(operation: Any, mode: GenerationMode, max_examples: int) -> list[Any]:
    """Up to `max_examples` cases, the same ones on every run (derandomized, no example database)."""
    cases: list[Any] = []

    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy(generation_mode=mode))
    def collect(case: Any) -> None:
        cases.append(case)

    try:
        collect()
    except Unsatisfiable:
        # Nothing to make invalid (no parameters, no body): no negative cases for this operation.
        pass
    return cases


def _failures(exc: BaseException) -> list[Failure]:
    if isinstance(exc, FailureGroup):
        return [f for f in exc.exceptions if isinstance(f, Failure)]
    if isinstance(exc, Failure):
        return [exc]
    raise exc


def _code(response: Any) -> str:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def run(base_url: str, max_examples: int = MAX_EXAMPLES, log=print) -> Summary:
    base_url = base_url.rstrip("/")
    # 413 (the route's body limit) is a rejection too, as the document says.
    config = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": [
        400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]}}})
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)
    tokens = {user: login(base_url, user) for user in USERS}
    checks = _checks()
    summary = Summary(max_examples=max_examples)
    session = requests.Session()
    started = time.monotonic()
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=lambda op: op.label)
    for operation in operations:
        summary.operations += 1
        for mode in MODES:
            for case in _draw(operation, mode, max_examples):
                summary.cases += 1
                for user, token in tokens.items():
                    headers = {"Authorization": f"Bearer {token}"}
                    response = case.call(base_url=base_url, session=session, headers=headers, timeout=35)
                    summary.requests += 1
                    summary.statuses[response.status_code] += 1
                    for check in checks:
                        try:
                            case.validate_response(response, checks=[check], headers=headers,
                                                   transport_kwargs={"base_url": base_url, "headers": headers,
                                                                     "session": session, "timeout": 35})
                        except (Failure, FailureGroup) as exc:
                            for failure in _failures(exc):
                                summary.findings.append(Finding(
                                    operation=operation.label, check=check.__name__, user=user,
                                    mode=mode.value, status=response.status_code, code=_code(response),
                                    title=failure.title.splitlines()[0][:120],
                                    curl=case.as_curl_command(headers=headers, base_url=base_url)))
        log(f"{operation.label}: {summary.cases} cases so far, {len(summary.findings)} findings")
    summary.seconds = time.monotonic() - started
    return summary


if __name__ == "__main__":
    result = run(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else MAX_EXAMPLES,
                 log=lambda line: print(line, file=sys.stderr))
    print(result.report())
