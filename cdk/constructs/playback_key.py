"""The IVS playback key pair: private half in Secrets Manager, public half
imported into IVS, generated once at deploy time without Docker.

    secret  <prefix>/playback-key   {"private_key_pem", "public_key_pem", "key_pair_arn"}
      1. Custom::PlaybackKeyMaterial   stores a P-384 key pair in the secret unless a valid
                                       one is there; returns the public PEM
      2. AWS::IVS::PlaybackKeyPair     imports that public PEM (IVS verifies tokens with it)
      3. Custom::PlaybackKeyPairArn    writes the key pair ARN into the secret

Both custom resources are served by one small function (cdk/assets/playback_key,
on the shared layer for `cryptography`). A deploy with nothing changed calls
neither; an update keeps the key. The private key is never in the template, a
custom resource response or a log.

Rotation is an operator step, not automated here: IVS verifies a token against
every key pair imported in the account and region (at most 3 per region), so a
new pair can be imported and the secret switched to it before the old pair is
deleted. See the AwsSolutions-SMG4 acknowledgement below.
"""
from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_ivs as ivs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk import nag
from cdk.config import StageConfig
from cdk.constructs import grants
from cdk.constructs.lambda_function import LambdaFunction

HANDLER_DIR = Path(__file__).resolve().parents[1] / "assets" / "playback_key"
MATERIAL_TYPE = "Custom::PlaybackKeyMaterial"
KEY_PAIR_ARN_TYPE = "Custom::PlaybackKeyPairArn"


class PlaybackKey(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        secret_name: str,
        encryption_key: kms.IKey,
        layer: lambda_.ILayerVersion,
    ) -> None:
        super().__init__(scope, id)
        prefix = config.prefix
        self.secret_name = secret_name
        # CloudFormation creates it with a random placeholder, which the custom
        # resource replaces; later deploys leave the value alone.
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=secret_name,
            description="IVS playback key pair (ES384): private_key_pem signs playback tokens; "
                        "written at deploy by the PlaybackKeyMaterial custom resource",
            encryption_key=encryption_key,
            removal_policy=config.removal_policy,
        )
        nag.acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "The value is an ES384 key pair whose public half is imported into IVS; a Secrets Manager rotation "
            "function cannot rotate it safely on a schedule. Rotating means importing a new key pair first (IVS "
            "accepts tokens from every imported pair), then switching this secret, then deleting the old pair: "
            "an operator procedure (cdk/constructs/playback_key.py).",
        )

        self.setup_function = LambdaFunction(
            self,
            "Setup",
            name="playback_key_setup",
            function_name=f"{prefix}-playback-key-setup",
            description="Deploy time: generates the IVS playback key pair into its secret (custom resource)",
            environment={},
            layers=[layer],
            memory_mb=256,
            timeout=Duration.seconds(60),
            log_retention=config.log_retention,
            removal_policy=config.removal_policy,
            code_dir=HANDLER_DIR,
        )
        self.setup_function.add_to_role_policy(grants.secret_write_statement(secret_arns=[self.secret.secret_arn]))
        self.setup_function.add_to_role_policy(grants.kms_statement(
            key_arn=encryption_key.key_arn, services=["secretsmanager"], encrypt=True))

        service_token = self.setup_function.function.function_arn
        material = CustomResource(
            self,
            "Material",
            service_token=service_token,
            resource_type=MATERIAL_TYPE,
            properties={"SecretId": self.secret.secret_arn},
        )
        self.key_pair = ivs.CfnPlaybackKeyPair(
            self,
            "KeyPair",
            name=f"{prefix}-playback",
            public_key_material=material.get_att_string("PublicKeyPem"),
        )
        self.key_pair_arn_record = CustomResource(
            self,
            "KeyPairArn",
            service_token=service_token,
            resource_type=KEY_PAIR_ARN_TYPE,
            properties={"SecretId": self.secret.secret_arn, "KeyPairArn": self.key_pair.attr_arn},
        )

    @property
    def key_pair_arn(self) -> str:
        return self.key_pair.attr_arn
