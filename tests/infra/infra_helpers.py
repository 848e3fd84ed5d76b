"""Small helpers for reading synthesized templates."""
from __future__ import annotations

from pathlib import Path
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


def from_parent(parent: dict, value: Any) -> Any:
    """A nested template's {"Ref": parameter} as its parent stack passes it in
    (another value is returned as it is)."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        for stack in resources(parent, "AWS::CloudFormation::Stack").values():
            passed = props(stack).get("Parameters", {})
            if value["Ref"] in passed:
                return passed[value["Ref"]]
    return value


def stack_templates(synth) -> dict[str, Path]:
    """Every CloudFormation stack the synth produced, nested ones included:
    stack name (a nested stack: its construct path) -> template file."""
    from aws_cdk import NestedStack

    found = {artifact.stack_name: Path(artifact.template_full_path) for artifact in synth.assembly.stacks}
    for construct in synth.app.node.find_all():
        if NestedStack.is_nested_stack(construct):
            found[construct.node.path] = synth.outdir / construct.template_file
    return found


def nested_templates(synth) -> list[Path]:
    """The nested stacks' templates (assets of their parents, not stacks of the manifest)."""
    return [path for name, path in stack_templates(synth).items() if "/" in name]


def inline_nested(parent: dict, children: dict[str, dict]) -> dict:
    """The parent template with each child stack's resources put in it, as if they were one stack:
    children maps the child's AWS::CloudFormation::Stack logical id in the parent to the child's
    template. A child resource's logical id gets the stack's id as a prefix; a child's {"Ref": parameter}
    becomes what the parent passes in, its Ref / GetAtt of its own resources the prefixed ids. The
    routed API's route stacks read this way: its methods, resources and their references in one place."""
    merged = {**parent, "Resources": dict(parent["Resources"])}
    for stack_id, child in children.items():
        passed = props(parent["Resources"][stack_id]).get("Parameters", {})
        own = set(child["Resources"])

        def rewrite(node: Any) -> Any:
            if isinstance(node, list):
                return [rewrite(item) for item in node]
            if not isinstance(node, dict):
                return node
            if set(node) == {"Ref"} and isinstance(node["Ref"], str):
                if node["Ref"] in passed:
                    return passed[node["Ref"]]
                if node["Ref"] in own:
                    return {"Ref": stack_id + node["Ref"]}
            if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in own:
                return {"Fn::GetAtt": [stack_id + node["Fn::GetAtt"][0], *node["Fn::GetAtt"][1:]]}
            return {key: rewrite(value) for key, value in node.items()}

        for logical_id, resource in child["Resources"].items():
            if stack_id + logical_id in merged["Resources"]:
                raise ValueError(f"inlining {stack_id}: {logical_id} collides")
            merged["Resources"][stack_id + logical_id] = rewrite(resource)
    return merged
