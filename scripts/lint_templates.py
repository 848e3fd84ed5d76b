#!/usr/bin/env python3
"""Run cfn-lint on every synthesized template (*.template.json) in a cloud
assembly directory (those of the last synth, per its manifest). Exit 1 on any
error; warnings are printed, not fatal.

    python scripts/lint_templates.py cdk.out [--regions ap-northeast-1 us-east-1]

W3005 (a DependsOn already implied by a Ref/GetAtt) is ignored by default: CDK
adds those on purpose (a Lambda function waits for its role's policy), and
CDK's own template validation ignores the rule for the same reason.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_REGIONS = ("ap-northeast-1",)
DEFAULT_IGNORED = ("W3005",)


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: str          # "error", "warning" or "informational"
    message: str
    filename: str
    line: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}: {self.rule_id} [{self.severity}] {self.message}"


def lint(templates: list[Path], *, regions: tuple[str, ...] = DEFAULT_REGIONS,
         ignore_checks: tuple[str, ...] = DEFAULT_IGNORED) -> list[Finding]:
    from cfnlint.api import ManualArgs, lint_by_config

    if not templates:
        return []
    matches = lint_by_config(ManualArgs(
        templates=[str(t) for t in templates],
        regions=list(regions),
        ignore_checks=list(ignore_checks),
    ))
    findings = [Finding(rule_id=m.rule.id, severity=str(m.rule.severity).lower(), message=m.message,
                        filename=str(m.filename), line=m.linenumber) for m in matches]
    return sorted(findings, key=lambda f: (f.filename, f.line, f.rule_id))


def templates_in(directory: Path) -> list[Path]:
    """The templates of the last synth: those its manifest lists (cdk.out can
    hold stale ones from earlier synths of other stages), else every one."""
    manifest = directory / "manifest.json"
    if manifest.is_file():
        artifacts = json.loads(manifest.read_text()).get("artifacts", {})
        listed = sorted(directory / a["properties"]["templateFile"] for a in artifacts.values()
                        if a.get("type") == "aws:cloudformation:stack")
        if listed:
            return listed + nested_templates(directory, listed)
    return sorted(directory.glob("*.template.json"))


def nested_templates(directory: Path, parents: list[Path]) -> list[Path]:
    """The nested stacks' templates the listed stacks point at (asset path in the
    AWS::CloudFormation::Stack resource's metadata), and theirs in turn."""
    found: list[Path] = []
    queue = list(parents)
    while queue:
        template = json.loads(queue.pop(0).read_text())
        for resource in template.get("Resources", {}).values():
            path = (resource.get("Metadata") or {}).get("aws:asset:path", "")
            if resource.get("Type") == "AWS::CloudFormation::Stack" and path.endswith(".template.json"):
                nested = directory / path
                if nested.is_file() and nested not in found:
                    found.append(nested)
                    queue.append(nested)
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="cloud assembly directory (cdk.out)")
    parser.add_argument("--regions", nargs="+", default=list(DEFAULT_REGIONS))
    parser.add_argument("--ignore-checks", nargs="*", default=list(DEFAULT_IGNORED))
    args = parser.parse_args(argv)

    templates = templates_in(args.directory)
    if not templates:
        print(f"no *.template.json in {args.directory}", file=sys.stderr)
        return 1
    findings = lint(templates, regions=tuple(args.regions), ignore_checks=tuple(args.ignore_checks))
    errors = [f for f in findings if f.severity == "error"]
    for finding in findings:
        print(finding)
    print(f"cfn-lint: {len(templates)} templates, {len(errors)} errors, "
          f"{len(findings) - len(errors)} warnings/notes")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
