"""The commerce functions (catalog, orders, payments, marketing, order_expiry,
commerce_events): exactly the tables the commerce contexts use, the payment
providers' secret readable by the payments function only, the every-minute
commerce clock and the points consumer."""
from __future__ import annotations

import dataclasses
import json

import pytest

from cdk.config import STAGES
from livecommerce.manifest import BY_NAME, FUNCTION_SPECS
from infra_helpers import actions, as_list, function_logical_id, props, resources, role_statements, statements
from livecommerce.catalog.spec import CATALOG
from livecommerce.marketing.spec import MARKETING
from livecommerce.orders.spec import ORDERS
from livecommerce.payments.spec import PAYMENTS
from livecommerce.manifest import SUBSCRIPTIONS
from livecommerce.identity.spec import IDENTITY
from livecommerce.manifest import ALL_TABLES
from livecommerce.rooms.spec import ROOMS
from livecommerce.shared.platform_spec import IDEMPOTENCY

pytestmark = pytest.mark.infra

# function -> (tables written, tables only read), as the commerce author listed them.
COMMERCE_TABLES = {
    "catalog": ({CATALOG}, {ROOMS, IDENTITY}),          # IDENTITY: room assistant grants
    "orders": ({ORDERS, CATALOG, MARKETING, IDEMPOTENCY}, {ROOMS}),
    "payments": ({PAYMENTS, ORDERS, MARKETING, IDEMPOTENCY}, {IDENTITY}),   # PAYMENTS: refund results
    # IDENTITY: room assistant grants; CATALOG and ORDERS: a gift for points takes the product's units and
    # makes its zero-amount order in the same transaction as the points debit (marketing.points gifts).
    "marketing": ({MARKETING, IDEMPOTENCY, CATALOG, ORDERS}, {ROOMS, IDENTITY}),
    # IDEMPOTENCY: a payment found at the provider before expiry is applied as its notification
    # (the per-transaction record).
    "order_expiry": ({ORDERS, CATALOG, MARKETING, IDEMPOTENCY}, set()),
    "commerce_events": ({MARKETING}, set()),
}


def _table_grants(synth, stage: str, name: str) -> tuple[set[str], set[str]]:
    """(tables the function may write, tables it may only read), by logical id, from the template."""
    table_ids = {props(r)["TableName"]: logical_id
                 for logical_id, r in resources(synth.json(stage, "Data"), "AWS::DynamoDB::Table").items()}
    by_data_id = {table_ids[t.physical_name(synth.config(stage).prefix)]: t.logical_id for t in ALL_TABLES}
    template = synth.json(stage, "Api")
    written, read = set(), set()
    for statement in role_statements(template, function_logical_id(template, name, stage)):
        granted = as_list(statement["Action"])
        if not any(a.startswith("dynamodb:") for a in granted) or "dynamodb:GetRecords" in granted:
            continue
        text = json.dumps(statement["Resource"])
        named = {logical for data_id, logical in by_data_id.items() if f"ExportsOutputFnGetAtt{data_id}Arn" in text}
        (written if "dynamodb:PutItem" in granted else read).update(named)
    return written, read - written


# ---------------------------------------------------------------------- specs

@pytest.mark.parametrize("name", sorted(COMMERCE_TABLES))
def test_commerce_specs_list_exactly_their_tables(name):
    writes, reads = COMMERCE_TABLES[name]
    spec = BY_NAME[name]
    assert set(spec.tables_write) == writes
    assert set(spec.tables_read) == reads
    assert spec.puts_events                      # every commerce context has an outbox
    assert not (spec.ivs_actions or spec.materials_prefix or spec.pii_encryption_context
                or spec.reads_playback_key or spec.reads_providers_secret or spec.publishes_realtime)


# The functions that talk to WeChat Pay / Alipay with the merchant keys, and why.
PAYMENT_KEY_READERS = {
    "payments": "prepay, verified notifications, an operator's reconciliation run",
    "refunds": "refunds at the providers, and asking about late refund results",
    "order_expiry": "asks the provider whether an order was paid before expiring it, and closes it there",
    "reconciliation": "downloads the daily bills",
}


def test_only_the_payment_functions_read_the_payment_keys():
    assert {spec.name for spec in FUNCTION_SPECS if spec.reads_payments_secret} == set(PAYMENT_KEY_READERS)
    assert [spec.name for spec in FUNCTION_SPECS if spec.creates_orders] == ["orders"]
    # An outbound provider call (8 s) or an operator's reconciliation run inside API Gateway's 29 s.
    assert BY_NAME["payments"].timeout_seconds == 29
    assert BY_NAME["order_expiry"].timeout_seconds == 60
    assert BY_NAME["order_expiry"].schedule == "rate(1 minute)"


def test_rooms_reads_the_catalog_for_the_announcement():
    rooms = BY_NAME["rooms"]
    assert CATALOG in rooms.tables_read and CATALOG not in rooms.tables_write


# -------------------------------------------------------------------- templates

@pytest.mark.parametrize("name", sorted(COMMERCE_TABLES))
def test_commerce_table_grants(synth, stage, name):
    writes, reads = COMMERCE_TABLES[name]
    assert _table_grants(synth, stage, name) == ({t.logical_id for t in writes}, {t.logical_id for t in reads})


def test_rooms_table_grants(synth, stage):
    assert _table_grants(synth, stage, "rooms") == ({"Rooms", "Identity"}, {"Catalog"})   # assistants


@pytest.mark.parametrize("name", sorted(COMMERCE_TABLES))
def test_commerce_functions_touch_nothing_else(synth, stage, name):
    template = synth.json(stage, "Api")
    granted = actions(role_statements(template, function_logical_id(template, name, stage)))
    assert not any(a.startswith(("ivs:", "s3:", "iot:")) for a in granted), name
    assert "events:PutEvents" in granted
    put_events = [s for s in role_statements(template, function_logical_id(template, name, stage))
                  if "events:PutEvents" in as_list(s["Action"])]
    assert all("EventBus" in json.dumps(s["Resource"]) for s in put_events)
    # Secrets: the payment keys (payments only) and the cursor-signing key (functions that page);
    # no other secret (test_secret_grants checks each secret against each spec's flags).
    secret_statements = [s for s in role_statements(template, function_logical_id(template, name, stage))
                         if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
    named = json.dumps(secret_statements)
    expected = {"PaymentProviders"} if BY_NAME[name].reads_payments_secret else set()
    if BY_NAME[name].reads_cursor_secret:
        expected.add("CursorSigningKey")
    assert {k for k in ("PaymentProviders", "CursorSigningKey", "TokenSigningKey", "LoginProviders",
                        "PlaybackKeySecret") if k in named} == expected, name
    assert ("secretsmanager:GetSecretValue" in granted) == bool(expected), name


def test_payment_providers_secret_is_readable_by_the_payment_functions_only(synth, stage):
    """Across every stack of the stage, the only statements naming the secret are GetSecretValue
    of the roles of the functions that read the merchant keys (PAYMENT_KEY_READERS), one each;
    the secret has no resource policy."""
    api = synth.json(stage, "Api")
    roles = {name: props(api["Resources"][function_logical_id(api, name, stage)])["Role"]["Fn::GetAtt"][0]
             for name in PAYMENT_KEY_READERS}
    secret = {"Fn::ImportValue": next(v["Export"]["Name"] for v in synth.json(stage, "Data")["Outputs"].values()
                                      if "PaymentProviders" in json.dumps(v["Value"]) and "Export" in v)}
    naming = []
    for part in ("Data", "Media", "Api", "Realtime", "Analytics", "Workflows"):
        template = synth.json(stage, part)
        assert not resources(template, "AWS::SecretsManager::ResourcePolicy")
        for logical_id, statement in statements(template):
            if "PaymentProviders" in json.dumps(statement["Resource"]):
                naming.append((part, logical_id, statement))
    assert {part for part, _, _ in naming} == {"Api"}
    granted = []
    for _, logical_id, statement in naming:
        assert as_list(statement["Action"]) == ["secretsmanager:GetSecretValue"]
        assert as_list(statement["Resource"]) == [secret]
        granted += [name for name, role in roles.items() if {"Ref": role} in props(api["Resources"][logical_id])["Roles"]]
        assert len(props(api["Resources"][logical_id])["Roles"]) == 1
    assert sorted(granted) == sorted(PAYMENT_KEY_READERS)
    # The secret is encrypted with the data key: each may decrypt it through Secrets Manager only.
    for name in PAYMENT_KEY_READERS:
        via = [s for s in role_statements(api, function_logical_id(api, name, stage))
               if "kms:Decrypt" in as_list(s["Action"]) and "secretsmanager." in json.dumps(s.get("Condition"))]
        assert len(via) == 1 and "kms:Encrypt" not in as_list(via[0]["Action"]), name


def test_payment_providers_secret_in_the_data_stack(synth, stage):
    template = synth.json(stage, "Data")
    (secret,) = [props(s) for s in resources(template, "AWS::SecretsManager::Secret").values()
                 if props(s)["Name"] == f"livecommerce-{stage}/payment-providers"]
    (data_key_id,) = [k for k, r in resources(template, "AWS::KMS::Key").items()
                      if props(r)["Description"].endswith("tables, data buckets and secrets")]
    assert secret["KmsKeyId"] == {"Fn::GetAtt": [data_key_id, "Arn"]}
    assert template["Outputs"]["PaymentProvidersSecretName"]["Value"] == f"livecommerce-{stage}/payment-providers"


def test_order_expiry_runs_every_minute(synth, stage):
    template = synth.json(stage, "Api")
    function_id = function_logical_id(template, "order_expiry", stage)
    rules = {logical_id: props(r) for logical_id, r in resources(template, "AWS::Events::Rule").items()
             if props(r)["Name"] == f"livecommerce-{stage}-order-expiry-schedule"}
    ((rule_id, rule),) = rules.items()
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    (permission,) = [props(p) for p in resources(template, "AWS::Lambda::Permission").values()
                     if props(p)["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    function = props(template["Resources"][function_id])
    assert function["Timeout"] == 60


def test_commerce_points_rule(synth, stage):
    """OrderPaid (points earned) and OrderRefunded (points taken back in proportion) on our bus ->
    commerce_events, with the DLQ and retries of every consumer."""
    template = synth.json(stage, "Api")
    config = synth.config(stage)
    (subscription,) = [s for s in SUBSCRIPTIONS if s.name == "CommercePoints"]
    assert subscription.function == "commerce_events" and subscription.bus == "domain"
    (rule,) = [props(r) for r in resources(template, "AWS::Events::Rule").values()
               if props(r)["Name"] == f"livecommerce-{stage}-CommercePoints"]
    assert rule["EventPattern"] == {"source": ["livecommerce"], "detail-type": ["OrderPaid", "OrderRefunded"]}
    assert "EventBus" in json.dumps(rule["EventBusName"])
    (target,) = rule["Targets"]
    function_id = function_logical_id(template, "commerce_events", stage)
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    (dlq_id,) = resources(template, "AWS::SQS::Queue")
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": config.event_retry_attempts,
                                     "MaximumEventAgeInSeconds": config.event_max_age_hours * 3600}
    assert props(template["Resources"][function_id])["DeadLetterConfig"]["TargetArn"] == \
        {"Fn::GetAtt": [dlq_id, "Arn"]}


# ------------------------------------------------------------------------- config

@pytest.mark.parametrize("changes, problem", [
    ({"api_public_base": "http://api.example.com"}, "https URL"),
    ({"api_public_base": "https://api.example.com/"}, "https URL"),
    ({"api_public_base": "https://api.example.com/v1"}, "without /v1"),
    ({"api_public_base": "https://api.example.com?x=1"}, "https URL"),
    ({"order_payment_window_seconds": 30}, "order_payment_window_seconds"),
])
def test_stage_config_rejects_bad_commerce_settings(changes, problem):
    with pytest.raises(ValueError, match=problem):
        dataclasses.replace(STAGES["dev"], **changes)


def test_stage_config_accepts_an_execute_api_base_with_its_stage_path():
    config = dataclasses.replace(STAGES["dev"],
                                 api_public_base="https://a1b2c3.execute-api.ap-northeast-1.amazonaws.com/dev")
    assert config.api_public_base.endswith("/dev")


def test_every_stage_has_a_notify_base():
    for config in STAGES.values():
        assert config.api_public_base.startswith("https://"), config.name
