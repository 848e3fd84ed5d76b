"""Lambda entry that serves the OpenAPI 3.1 document and Swagger UI."""
from livecommerce.shared.openapi import build_docs_api

api = build_docs_api()
handler = api.handler()
