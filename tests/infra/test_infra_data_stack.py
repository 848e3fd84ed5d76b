"""The data stack: tables as the specs say, safe buckets, the bus, the secrets."""
from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from infra_helpers import props, resources
from livecommerce.manifest import ALL_TABLES

pytestmark = pytest.mark.infra


def _table(template: dict, name: str) -> dict:
    found = [r for r in resources(template, "AWS::DynamoDB::Table").values() if props(r)["TableName"] == name]
    assert len(found) == 1, f"table {name} not found exactly once"
    return found[0]


def test_one_table_per_spec(synth, stage):
    template = synth.json(stage, "Data")
    names = {props(r)["TableName"] for r in resources(template, "AWS::DynamoDB::Table").values()}
    assert names == {spec.physical_name(f"livecommerce-{stage}") for spec in ALL_TABLES}


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda s: s.logical_id)
def test_table_matches_spec(synth, stage, spec):
    table = props(_table(synth.json(stage, "Data"), spec.physical_name(synth.config(stage).prefix)))

    expected_keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        expected_keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    assert table["KeySchema"] == expected_keys
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    sse = table["SSESpecification"]
    assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS" and "KMSMasterKeyId" in sse

    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {index.name for index in spec.indexes}
    for index in spec.indexes:
        keys = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        if index.sort_key:
            keys.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
        assert indexes[index.name]["KeySchema"] == keys
        assert indexes[index.name]["Projection"] == {"ProjectionType": "ALL"}

    key_attributes = {spec.partition_key, spec.sort_key} - {None}
    for index in spec.indexes:
        key_attributes |= {index.partition_key, index.sort_key} - {None}
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == \
        {name: "S" for name in key_attributes}

    if spec.ttl_attribute:
        assert table["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in table
    assert ("StreamSpecification" in table) == spec.stream


def test_prod_data_is_retained_and_protected(synth):
    template = synth.json("prod", "Data")
    for resource in resources(template, "AWS::DynamoDB::Table").values():
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["UpdateReplacePolicy"] == "Retain"
        assert props(resource)["DeletionProtectionEnabled"] is True
    for type_ in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::SecretsManager::Secret"):
        for resource in resources(template, type_).values():
            assert resource["DeletionPolicy"] == "Retain", type_
    assert synth.stages["prod"].data.termination_protection is True


def test_dev_data_is_disposable(synth):
    template = synth.json("dev", "Data")
    for resource in resources(template, "AWS::DynamoDB::Table").values():
        assert resource["DeletionPolicy"] == "Delete"
        assert props(resource)["DeletionProtectionEnabled"] is False
        # Point-in-time recovery is on in every stage.
        assert props(resource)["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_data_key_rotates(synth, stage):
    synth.template(stage, "Data").has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_buckets_are_versioned_private_encrypted_and_tls_only(synth, stage):
    template = synth.json(stage, "Data")
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 3  # materials, exports, access logs
    policies = {props(p)["Bucket"]["Ref"]: props(p)["PolicyDocument"]
                for p in resources(template, "AWS::S3::BucketPolicy").values()}
    for logical_id, bucket in buckets.items():
        p = props(bucket)
        assert p["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id
        assert p["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True}, logical_id
        rules = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("aws:kms", "AES256")
        assert p["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        lifecycle = {r["Id"]: r for r in p["LifecycleConfiguration"]["Rules"]}
        assert "NoncurrentVersionExpiration" in lifecycle["noncurrent-versions"]
        denies_plain_http = [
            s for s in policies[logical_id]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert denies_plain_http, f"{logical_id} has no TLS-only policy"


def test_data_buckets_use_the_data_key_and_are_access_logged(synth, stage):
    template = synth.json(stage, "Data")
    logged = [b for b in resources(template, "AWS::S3::Bucket").values() if "LoggingConfiguration" in props(b)]
    assert len(logged) == 2
    for bucket in logged:
        default = props(bucket)["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert default["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert default["BucketKeyEnabled"] is True


def test_materials_bucket_allows_presigned_browser_uploads(synth, stage):
    config = synth.config(stage)
    synth.template(stage, "Data").has_resource_properties("AWS::S3::Bucket", {
        "CorsConfiguration": {"CorsRules": [Match.object_like({
            "AllowedMethods": Match.array_with(["PUT", "POST"]),
            "AllowedOrigins": list(config.cors_allowed_origins),
        })]},
    })


def test_event_bus_with_archive(synth, stage):
    template = synth.template(stage, "Data")
    template.has_resource_properties("AWS::Events::EventBus", {"Name": f"livecommerce-{stage}-bus"})
    template.resource_count_is("AWS::Events::Archive", 1)


def test_secrets(synth, stage):
    template = synth.json(stage, "Data")
    secrets = {props(s)["Name"]: props(s) for s in resources(template, "AWS::SecretsManager::Secret").values()}
    signing = secrets[f"livecommerce-{stage}/token-signing-key"]
    assert signing["GenerateSecretString"] == {
        "ExcludePunctuation": True, "IncludeSpace": False, "PasswordLength": 64}
    assert "KmsKeyId" in signing
    cursors = secrets[f"livecommerce-{stage}/cursor-signing-key"]     # platform_spec.CURSOR_SECRET
    assert cursors["GenerateSecretString"] == {
        "ExcludePunctuation": True, "IncludeSpace": False, "PasswordLength": 64}
    assert "KmsKeyId" in cursors
    providers = secrets[f"livecommerce-{stage}/login-providers"]
    assert set(json.loads(providers["SecretString"])) == {
        "wechat_app_id", "wechat_app_secret", "alipay_app_id", "alipay_app_private_key", "alipay_public_key"}
    assert "KmsKeyId" in providers
    payments = secrets[f"livecommerce-{stage}/payment-providers"]
    assert "KmsKeyId" in payments and "GenerateSecretString" not in payments
    # Placeholders only: every key of both providers, all empty (both channels off until filled in).
    assert json.loads(payments["SecretString"]) == {
        "wechatpay": dict.fromkeys(("mchid", "appid", "merchant_serial_no", "merchant_private_key", "apiv3_key",
                                    "platform_public_key", "platform_public_key_id"), ""),
        "alipay": dict.fromkeys(("app_id", "app_private_key", "alipay_public_key", "seller_id"), ""),
    }


def test_payment_placeholders_mean_no_provider_configured(synth, stage):
    """The deployed placeholder is what livecommerce.payments.credentials reads as "not configured"."""
    from livecommerce.payments.credentials import PaymentCredentials

    template = synth.json(stage, "Data")
    (payments,) = [props(s) for s in resources(template, "AWS::SecretsManager::Secret").values()
                   if props(s)["Name"] == f"livecommerce-{stage}/payment-providers"]
    configured = PaymentCredentials.from_json(payments["SecretString"])
    assert configured.wechatpay is None and configured.alipay is None


def test_only_stream_tables_have_a_stream(synth, stage):
    template = synth.json(stage, "Data")
    prefix = synth.config(stage).prefix
    for spec in ALL_TABLES:
        table = props(_table(template, spec.physical_name(prefix)))
        if spec.stream:
            assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
        else:
            assert "StreamSpecification" not in table
    assert any(spec.stream for spec in ALL_TABLES)   # the interaction table feeds the realtime batcher
