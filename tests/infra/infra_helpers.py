"""Small helpers for reading synthesized templates."""
from __future__ import annotations

from typing import Any


def resources(template: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def props(resource: dict) -> dict:
    return resource.get("Properties", {})


def statements(template: dict) -> list[tuple[str, dict]]:
    """(resource logical id, statement) of every IAM policy statement in the template."""
    found = []
    for logical_id, resource in template["Resources"].items():
        properties = props(resource)
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [properties["PolicyDocument"]]
        elif resource["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
        else:
            continue
        for document in documents:
            found += [(logical_id, statement) for statement in document["Statement"]]
    return found


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
