"""Schemathesis over the local stack's OpenAPI document (tests/e2e/shared/api_fuzz.py):
every operation, a bounded deterministic set of positive and negative cases, sent with
a host's and a viewer's token, all checks. No 5xx, no response outside the schema, no
status code or content type the document does not list.

About 35 s for 1,142 cases / 2,284 requests on 2 cores (MAX_EXAMPLES = 10), after the
stack's start."""
from __future__ import annotations

import pytest

import api_fuzz

pytestmark = pytest.mark.e2e

# Must be zero: the document tells the truth.
STRICT = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "ignored_auth",
          "missing_required_header", "unsupported_method", "allow_header_conformance",
          "use_after_free", "ensure_resource_availability", "object_level_authorization")


@pytest.mark.timeout(600)
def test_openapi_document_tells_the_truth(stack):
    url, _, _ = stack
    summary = api_fuzz.run(url, api_fuzz.MAX_EXAMPLES, log=lambda line: None)
    print("\n" + summary.report())
    assert summary.cases > 1000 and summary.operations >= 59
    strict = [f for f in summary.findings if f.check in STRICT]
    assert not strict, "\n".join(f.line() + "\n    " + f.curl for f in strict[:20])
    assert summary.server_errors == 0
