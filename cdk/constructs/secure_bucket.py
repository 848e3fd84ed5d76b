"""An S3 bucket with the project's baseline: versioned, TLS-only (1.2+), no
public access, owner-enforced objects, encrypted, access-logged, old versions
and failed multipart uploads cleaned up.

Exception by argument only: `object_ownership` for a bucket that receives
CloudFront standard logs (those are delivered with ACLs, which owner-enforced
ownership turns off)."""
from __future__ import annotations

from typing import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


class SecureBucket(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        removal_policy: RemovalPolicy,
        noncurrent_version_days: int,
        encryption_key: kms.IKey | None = None,
        access_logs_bucket: s3.IBucket | None = None,
        access_logs_prefix: str | None = None,
        expiration_days: int | None = None,
        transitions: Sequence[s3.Transition] | None = None,
        cors: Sequence[s3.CorsRule] | None = None,
        object_ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    ) -> None:
        super().__init__(scope, id)
        rules = [
            s3.LifecycleRule(
                id="noncurrent-versions",
                noncurrent_version_expiration=Duration.days(noncurrent_version_days),
                expired_object_delete_marker=True,
            ),
            s3.LifecycleRule(id="abort-incomplete-uploads",
                             abort_incomplete_multipart_upload_after=Duration.days(7)),
        ]
        if expiration_days is not None:
            rules.append(s3.LifecycleRule(id="expire-objects", expiration=Duration.days(expiration_days)))
        if transitions:
            rules.append(s3.LifecycleRule(id="transitions", transitions=list(transitions)))
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            versioned=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=object_ownership,
            encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            # One data key per bucket instead of one KMS call per object.
            bucket_key_enabled=True if encryption_key else None,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=access_logs_prefix,
            lifecycle_rules=rules,
            cors=list(cors) if cors else None,
            removal_policy=removal_policy,
        )
