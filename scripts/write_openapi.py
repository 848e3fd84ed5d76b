"""Writes functions/docs/openapi.json from the routers and the route declarations (run by `make openapi`)."""
from pathlib import Path

from livecommerce.http_routers import router_builders
from livecommerce.manifest import ROUTES
from livecommerce.shared.openapi import render

target = Path(__file__).resolve().parent.parent / "functions" / "docs" / "openapi.json"
target.write_text(render(router_builders(), ROUTES), encoding="utf-8")
print(f"wrote {target}")
