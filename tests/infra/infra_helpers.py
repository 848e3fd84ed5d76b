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


def function_logical_id(template: dict, name: str, stage: str) -> str:
    """The logical id of the function named livecommerce-<stage>-<name> (underscores as dashes)."""
    function_name = f"livecommerce-{stage}-{name.replace('_', '-')}"
    (logical_id,) = [k for k, r in resources(template, "AWS::Lambda::Function").items()
                     if props(r).get("FunctionName") == function_name]
    return logical_id


def role_statements(template: dict, function_logical_id_: str) -> list[dict]:
    """Every IAM statement of the function's role (inline and attached policies of the template)."""
    role = props(template["Resources"][function_logical_id_])["Role"]["Fn::GetAtt"][0]
    found = []
    for logical_id, statement in statements(template):
        resource = template["Resources"][logical_id]
        if logical_id == role or {"Ref": role} in props(resource).get("Roles", []):
            found.append(statement)
    return found


def actions(statements_: list[dict]) -> set[str]:
    return {a for s in statements_ for a in as_list(s["Action"])}
