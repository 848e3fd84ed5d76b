"""cdk-nag v3 as a CDK policy-validation plugin, and the one way we acknowledge
a finding.

Every synth runs AwsSolutionsChecks over the whole app; a finding that is not
acknowledged fails the synth (cdk synth exits non-zero and prints the report,
an in-process `app.synth()` raises). Prefer fixing the resource; acknowledge
only what cannot or should not be fixed, on the narrowest construct, with the
reason a reviewer needs. Findings with several parts are acknowledged one by one
(`AwsSolutions-IAM5[Resource::*]`), there is no blanket acknowledgement.

The report of every synth is in cdk.out/validation-report.json; acknowledged
findings never reach it (cdk-nag filters them), so it lists only what is wrong.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from aws_cdk import Acknowledgment, App, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PLUGIN_NAMESPACE = "AwsSolutions"
_MIN_REASON_LENGTH = 30


def add_checks(app: App) -> AwsSolutionsChecks:
    checks = AwsSolutionsChecks(app, verbose=True)
    Validations.of(app).add_plugins(checks)
    return checks


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on `scope` and everything below it.

    rule_id as cdk-nag prints it: `AwsSolutions-S1`, `AwsSolutions-IAM5[Resource::*]`
    (the CLI's `AwsSolutions::` prefix is accepted and dropped)."""
    rule_id = rule_id.removeprefix(f"{PLUGIN_NAMESPACE}::")
    if not rule_id.startswith(f"{PLUGIN_NAMESPACE}-"):
        raise ValueError(f"not a cdk-nag AwsSolutions rule id: {rule_id!r}")
    if len(reason.strip()) < _MIN_REASON_LENGTH:
        raise ValueError(f"acknowledging {rule_id} needs a real reason, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason.strip()))


def flatten(scope: IConstruct, value: Any) -> str:
    """A value (an ARN with tokens, say) the way cdk-nag prints it in a finding
    id, e.g. `arn:<AWS::Partition>:ivs:<AWS::Region>:<AWS::AccountId>:channel/*`.
    Only for values that resolve while the app is still being built: literals,
    pseudo parameters, local references, Fn::ImportValue of a named export; not
    automatic cross-stack references (those resolve during synth)."""
    return flatten_resolved(Stack.of(scope).resolve(value))


def flatten_resolved(node: Any) -> str:
    """cdk-nag's flattenCfnReference, for a CloudFormation value as in a template."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(flatten_resolved(item) for item in items)
        if "Fn::Sub" in node:
            return flatten_resolved(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_resolved(resource)}.{flatten_resolved(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten_resolved(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten_resolved(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def acknowledge_all(scope: IConstruct, rule_ids: Iterable[str], reason: str) -> None:
    for rule_id in rule_ids:
        acknowledge(scope, rule_id, reason)


def acknowledgements(root: IConstruct) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every acknowledgement under root."""
    found = []
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY and entry.data:
                for qualified_id, reason in dict(entry.data).items():
                    rule_id = qualified_id.split("::", 1)[1] if qualified_id.lower().startswith("annotation::") \
                        else qualified_id
                    found.append((construct.node.path, rule_id, reason))
    return found
