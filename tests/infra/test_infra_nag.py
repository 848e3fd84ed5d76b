"""cdk-nag (AwsSolutionsChecks, a policy-validation plugin): the app has no
unacknowledged finding, the check really fails a synth that has one, and every
acknowledgement is still needed and says why."""
from __future__ import annotations

import json

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks

import cdk.nag
from cdk import nag
from cdk.stage import create_app

pytestmark = pytest.mark.infra


def _throwaway_app(tmp_path) -> tuple[App, Stack]:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Throwaway")
    nag.add_checks(app)
    return app, stack


def test_synth_reports_no_findings(synth):
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    nag_reports = [r for r in report["pluginReports"] if r["pluginName"].startswith("AwsSolutions")]
    findings = [(v["ruleName"], c["constructPath"]) for r in nag_reports for v in r["violations"]
                for c in v["violatingConstructs"]]
    assert findings == []


def test_an_unacknowledged_finding_fails_the_synth(tmp_path):
    app, stack = _throwaway_app(tmp_path)
    s3.Bucket(stack, "NoLogsNoTls")
    with pytest.raises(Exception) as failure:
        app.synth()
    assert "AwsSolutions-S1" in str(failure.value)
    assert "AwsSolutions-S10" in str(failure.value)


def test_an_unacknowledged_finding_in_our_stacks_fails_the_synth(tmp_path):
    app, stages = create_app("dev", outdir=str(tmp_path), use_stage_context=False)
    sqs.Queue(stages[0].data, "PlainQueue")   # no DLQ, no TLS-only policy
    with pytest.raises(Exception) as failure:
        app.synth()
    assert "AwsSolutions-SQS3" in str(failure.value)
    assert "AwsSolutions-SQS4" in str(failure.value)


def test_acknowledged_findings_pass(tmp_path):
    app, stack = _throwaway_app(tmp_path)
    bucket = s3.Bucket(stack, "Acknowledged")
    nag.acknowledge(bucket, "AwsSolutions-S1", "Test fixture: shows that an acknowledged finding passes.")
    nag.acknowledge(bucket, "AwsSolutions-S10", "Test fixture: shows that an acknowledged finding passes.")
    app.synth()


def test_an_acknowledgement_needs_a_real_reason(tmp_path):
    _app, stack = _throwaway_app(tmp_path)
    bucket = s3.Bucket(stack, "Bucket")
    with pytest.raises(ValueError):
        nag.acknowledge(bucket, "AwsSolutions-S1", "ok")
    with pytest.raises(ValueError):
        nag.acknowledge(bucket, "S1", "A long enough reason that is still no cdk-nag rule id.")


def test_every_acknowledgement_has_a_reason(synth):
    found = nag.acknowledgements(synth.app)
    assert found, "expected the acknowledgements listed in cdk/ (X-Ray, public routes, ...)"
    for path, rule_id, reason in found:
        assert rule_id.startswith("AwsSolutions-"), (path, rule_id)
        assert len(reason) >= 30, (path, rule_id, reason)


def test_every_acknowledgement_is_needed(monkeypatch, tmp_path):
    """Build the app with acknowledgements only recorded, run the checks on it,
    and match: every finding is acknowledged and every acknowledgement matches
    a finding (a stale one would hide a future problem)."""
    recorded: list[tuple[str, str]] = []
    monkeypatch.setattr(cdk.nag, "acknowledge",
                        lambda scope, rule_id, reason: recorded.append((scope.node.path, rule_id)))
    app, _stages = create_app(None, outdir=str(tmp_path), use_stage_context=False)
    report = AwsSolutionsChecks().validate_scope(app)
    findings = [(v.rule_name, r.construct_path) for v in report.violations for r in v.violating_resources]

    def covers(ack: tuple[str, str], finding: tuple[str, str]) -> bool:
        (ack_path, ack_rule), (rule, path) = ack, finding
        return ack_rule == rule and (path == ack_path or path.startswith(ack_path + "/"))

    unacknowledged = [f for f in findings if not any(covers(a, f) for a in recorded)]
    stale = [a for a in recorded if not any(covers(a, f) for f in findings)]
    assert unacknowledged == []
    assert stale == []
