"""Writes the event catalogue (run by `make events`): docs/events.md, and one JSON
Schema per event type in events/schemas/ (producer and consumers in x-producer,
x-consumers)."""
import json
import sys
from pathlib import Path

from livecommerce.event_catalogue import event_models, render_markdown, schema

ROOT = Path(__file__).resolve().parent.parent


def outputs() -> dict[Path, str]:
    files = {ROOT / "docs" / "events.md": render_markdown()}
    for detail_type, model in sorted(event_models().items()):
        files[ROOT / "events" / "schemas" / f"{detail_type}.json"] = \
            json.dumps(schema(model), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return files


if __name__ == "__main__":
    wanted = outputs()
    folder = ROOT / "events" / "schemas"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in set(folder.glob("*.json")) - set(wanted):
        stale.unlink()
    for path, text in wanted.items():
        path.write_text(text, encoding="utf-8")
    print(f"wrote docs/events.md and {len(wanted) - 1} schemas in events/schemas/", file=sys.stderr)
