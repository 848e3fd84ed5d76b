"""Data that outlives deployments: tables, buckets, the event bus, secrets and
the key that encrypts them. Retained in prod.

Encryption: one customer-managed KMS key per stage (rotated yearly) for the
tables, the data buckets and the secrets. The tables hold personal data
(provider identities, profiles, later orders and addresses); a key of our own
gives a key policy we control, a CloudTrail record of every use, a way to cut
off all access at once (disable the key) and cross-account backup copies,
none of which an AWS-managed key allows. Cost: $1 a month plus requests
(S3 bucket keys and DynamoDB's table keys keep those few). Exceptions: the
access-log bucket uses SSE-S3 (S3 log delivery cannot write with SSE-KMS) and
the event bus keeps EventBridge's AWS-owned key (events carry ids, not
personal data).

A second key, the PII key, encrypts single fields our code encrypts itself
(reservation phone numbers) with kms:Encrypt/Decrypt and an encryption context.
It is separate from the data key so that reading a table (which needs the data
key through DynamoDB) never implies reading those fields: only functions granted
the PII key, with the right context, can decrypt them.
"""
from __future__ import annotations

import json

from aws_cdk import CfnOutput, Duration, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk import nag
from cdk.config import StageConfig
from cdk.constructs.secure_bucket import SecureBucket
from livecommerce.manifest import ALL_SECRETS, ALL_TABLES
from livecommerce.shared.spec import TableSpec

# Keys of the login-providers secret. Deployed with empty values, which the
# identity service reads as "provider not configured" (that login answers with a
# configuration error). After the first deploy the operator fills them in:
#   aws secretsmanager put-secret-value --secret-id livecommerce-<stage>/login-providers \
#       --secret-string file://providers.json      # the five keys below, as JSON
# Functions cache the value for a few minutes. Later deploys leave it alone as
# long as the placeholder template below is unchanged.
#
# The token signing key is generated at deploy. To rotate it: put-secret-value
# with 64 new letters/digits, e.g. "$(openssl rand -hex 32)". Tokens verify
# against the current and the previous (AWSPREVIOUS) key, so nobody is logged
# out; tokens signed with the old key expire within their TTL.
LOGIN_PROVIDER_KEYS = (
    "wechat_app_id",
    "wechat_app_secret",
    "alipay_app_id",
    "alipay_app_private_key",
    "alipay_public_key",
)
# Keys of the payment-providers secret (livecommerce.payments.credentials), the
# merchant keys of WeChat Pay v3 and Alipay. Deployed with empty values: a provider
# whose keys are missing answers "channel unavailable" (503) and no payment starts.
# Only the payments function can read it. Fill in after the first deploy:
#   aws secretsmanager put-secret-value --secret-id livecommerce-<stage>/payment-providers \
#       --secret-string file://payments.json      # the shape below, as JSON
# (leave a provider out, or its values empty, to keep it off; seller_id is optional).
PAYMENT_PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "wechatpay": ("mchid", "appid", "merchant_serial_no", "merchant_private_key", "apiv3_key",
                  "platform_public_key", "platform_public_key_id"),
    "alipay": ("app_id", "app_private_key", "alipay_public_key", "seller_id"),
}
MATERIALS_UPLOAD_METHODS = (s3.HttpMethods.PUT, s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD)


class DataStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        prefix = config.prefix

        self.key = kms.Key(
            self,
            "DataKey",
            alias=f"alias/{prefix}/data",
            description=f"{prefix}: tables, data buckets and secrets",
            enable_key_rotation=True,
            pending_window=Duration.days(30 if config.retain_data else 7),
            removal_policy=config.removal_policy,
        )

        self.pii_key = kms.Key(
            self,
            "PiiKey",
            alias=f"alias/{prefix}/pii",
            description=f"{prefix}: personal data fields encrypted by our code (phone numbers), "
                        "always with an encryption context",
            enable_key_rotation=True,
            pending_window=Duration.days(30 if config.retain_data else 7),
            removal_policy=config.removal_policy,
        )

        # Tables ------------------------------------------------------------------
        self.table_specs: dict[str, TableSpec] = {spec.logical_id: spec for spec in ALL_TABLES}
        self.tables: dict[str, dynamodb.Table] = {spec.logical_id: self._table(spec) for spec in ALL_TABLES}

        # Buckets -----------------------------------------------------------------
        self.access_logs_bucket = SecureBucket(
            self,
            "AccessLogsBucket",
            removal_policy=config.removal_policy,
            noncurrent_version_days=1,
            expiration_days=config.access_log_expiry_days,
        ).bucket
        self.materials_bucket = SecureBucket(
            self,
            "MaterialsBucket",
            encryption_key=self.key,
            access_logs_bucket=self.access_logs_bucket,
            access_logs_prefix="materials/",
            removal_policy=config.removal_policy,
            noncurrent_version_days=config.noncurrent_version_days,
            # Browsers (web consoles) upload room materials with presigned URLs.
            cors=[s3.CorsRule(
                allowed_methods=list(MATERIALS_UPLOAD_METHODS),
                allowed_origins=list(config.cors_allowed_origins),
                allowed_headers=["Content-Type", "Content-MD5", "Content-Disposition", "x-amz-*"],
                exposed_headers=["ETag"],
                max_age=3000,
            )],
        ).bucket
        self.exports_bucket = SecureBucket(
            self,
            "ExportsBucket",
            encryption_key=self.key,
            access_logs_bucket=self.access_logs_bucket,
            access_logs_prefix="exports/",
            removal_policy=config.removal_policy,
            noncurrent_version_days=config.noncurrent_version_days,
            expiration_days=config.export_expiry_days,
        ).bucket

        # The API stack builds IAM resources under the bucket (`<arn>/rooms/*`) from
        # this export: a named export keeps those resources, and the cdk-nag findings
        # they raise, readable and stable across synths.
        self.materials_bucket_arn_import = self.export_value(
            self.materials_bucket.bucket_arn, name=f"{self.stack_name}-MaterialsBucketArn")
        # The same for the exports bucket (stored reports and workbooks: FunctionSpec.exports_prefixes).
        self.exports_bucket_arn_import = self.export_value(
            self.exports_bucket.bucket_arn, name=f"{self.stack_name}-ExportsBucketArn")

        # Domain events -----------------------------------------------------------
        self.event_bus_name = f"{prefix}-bus"
        self.event_bus = events.EventBus(self, "EventBus", event_bus_name=self.event_bus_name,
                                         description=f"{prefix}: domain events")
        self.event_bus.archive(
            "Archive",
            archive_name=f"{prefix}-events",
            description="Every domain event, for replays after a consumer bug",
            event_pattern=events.EventPattern(account=[self.account]),
            retention=Duration.days(config.event_archive_retention_days),
        )
        if config.removal_policy == RemovalPolicy.RETAIN:
            self.event_bus.apply_removal_policy(RemovalPolicy.RETAIN)

        # Secrets -----------------------------------------------------------------
        self.token_secret_name = f"{prefix}/token-signing-key"
        self.token_secret = secretsmanager.Secret(
            self,
            "TokenSigningKey",
            secret_name=self.token_secret_name,
            description="HS256 key that signs login tokens (64 random characters)",
            encryption_key=self.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False),
            removal_policy=config.removal_policy,
        )
        nag.acknowledge(
            self.token_secret,
            "AwsSolutions-SMG4",
            "Rotation is an operator step (put-secret-value; cdk/stacks/data_stack.py says how) rather than a "
            "rotation Lambda: token verification accepts the AWSCURRENT and AWSPREVIOUS keys, so a manual "
            "rotation logs nobody out. A scheduled rotation function is a possible follow-up.",
        )
        # Generated secrets the specs declare (the cursor signing key, platform_spec.CURSOR_SECRET);
        # the local stack creates the same ones (local.resources).
        self.generated_secrets: dict[str, secretsmanager.Secret] = {}
        for spec in ALL_SECRETS:
            secret = secretsmanager.Secret(
                self,
                spec.logical_id,
                secret_name=spec.physical_name(prefix),
                description=spec.description,
                encryption_key=self.key,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=spec.length, exclude_punctuation=True, include_space=False),
                removal_policy=config.removal_policy,
            )
            nag.acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "A key our own functions generate and verify with (HMAC), never shared with a client or a "
                "provider. Rotation is an operator step (put-secret-value) rather than a rotation Lambda: "
                "readers accept the AWSCURRENT and AWSPREVIOUS versions, so a manual rotation breaks nothing "
                "in flight.",
            )
            self.generated_secrets[spec.logical_id] = secret
        self.providers_secret_name = f"{prefix}/login-providers"
        self.providers_secret = secretsmanager.Secret(
            self,
            "LoginProviders",
            secret_name=self.providers_secret_name,
            description=("WeChat and Alipay mini-program credentials (JSON). Deployed empty, which "
                         "disables those logins; fill in after deploy: " + ", ".join(LOGIN_PROVIDER_KEYS)),
            encryption_key=self.key,
            # Placeholders only. CloudFormation writes them once; the values the operator
            # puts in later survive deploys while this template value stays unchanged.
            secret_object_value={key: SecretValue.unsafe_plain_text("") for key in LOGIN_PROVIDER_KEYS},
            removal_policy=config.removal_policy,
        )
        nag.acknowledge(
            self.providers_secret,
            "AwsSolutions-SMG4",
            "These credentials are issued in the WeChat and Alipay developer consoles; no Lambda can "
            "rotate them there. The operator replaces them when the provider rotates them "
            "(put-secret-value, see LOGIN_PROVIDER_KEYS).",
        )

        self.payments_secret_name = f"{prefix}/payment-providers"
        placeholder = {provider: {key: "" for key in keys} for provider, keys in PAYMENT_PROVIDER_KEYS.items()}
        self.payments_secret = secretsmanager.Secret(
            self,
            "PaymentProviders",
            secret_name=self.payments_secret_name,
            description=("WeChat Pay v3 and Alipay merchant keys (JSON, see PAYMENT_PROVIDER_KEYS). Deployed "
                         "empty, which keeps both payment channels off; fill in after deploy."),
            encryption_key=self.key,
            # Placeholders only, as for the login providers: written once by CloudFormation,
            # the operator's values survive later deploys while this value stays unchanged.
            secret_string_value=SecretValue.unsafe_plain_text(json.dumps(placeholder, sort_keys=True, separators=(",", ":"))),
            removal_policy=config.removal_policy,
        )
        nag.acknowledge(
            self.payments_secret,
            "AwsSolutions-SMG4",
            "Merchant keys are issued in the WeChat Pay and Alipay merchant platforms (API certificate, "
            "APIv3 key, application key pair); no Lambda can rotate them there. The operator replaces them "
            "when they are renewed at the provider (put-secret-value, see PAYMENT_PROVIDER_KEYS).",
        )

        for name, value in (
            ("MaterialsBucketName", self.materials_bucket.bucket_name),
            ("ExportsBucketName", self.exports_bucket.bucket_name),
            ("DataKeyArn", self.key.key_arn),
            ("PiiKeyArn", self.pii_key.key_arn),
            ("TokenSecretName", self.token_secret_name),
            *((f"{spec.logical_id}Name", spec.physical_name(prefix)) for spec in ALL_SECRETS),
            ("LoginProvidersSecretName", self.providers_secret_name),
            ("PaymentProvidersSecretName", self.payments_secret_name),
        ):
            CfnOutput(self, name, value=value)

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        string = dynamodb.AttributeType.STRING
        table = dynamodb.Table(
            self,
            spec.logical_id,
            table_name=spec.physical_name(self.config.prefix),
            partition_key=dynamodb.Attribute(name=spec.partition_key, type=string),
            sort_key=dynamodb.Attribute(name=spec.sort_key, type=string) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            deletion_protection=self.config.retain_data,
            time_to_live_attribute=spec.ttl_attribute,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if spec.stream else None,
            removal_policy=self.config.removal_policy,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=dynamodb.Attribute(name=index.partition_key, type=string),
                sort_key=dynamodb.Attribute(name=index.sort_key, type=string) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table
