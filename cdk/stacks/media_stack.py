"""Video around IVS: the recordings bucket and recording configuration, the
playback key pair, and the playback CDN on the operator's domain. Our code never
carries video; it provisions channels (rooms function) against what is here.

Recordings bucket encryption: SSE-S3, not the data key. IVS writes recordings
with its service-linked role AWSServiceRoleForIVSRecordToS3, which IVS creates
when the recording configuration is created and which may only s3:PutObject on
the configured bucket (IVS user guide, "Auto-Record to Amazon S3"; AWS managed
policy IVSRecordToS3). It has no KMS permission, and IVS does not document
recording into SSE-KMS buckets with a customer managed key: a key policy would
have to name a role that does not exist until the recording configuration does,
and a write IVS cannot encrypt only shows up as a "Recording Start Failure"
event. Recordings are the broadcast itself (what every viewer saw), not personal
data, so S3-managed encryption (AES-256), versioning, TLS-only access and no
public access are the right level. No bucket policy grant is needed for IVS
(same account, the role's own policy allows the write).

Access logs (recordings bucket, CloudFront) go to this stack's own log bucket:
logging into the data stack's bucket would make the data stack's bucket policy
name this stack's bucket, a reference cycle. CloudFront standard logs are
delivered with ACLs, so that bucket keeps ACLs on (BucketOwnerPreferred).
"""
from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Fn, Stack
from aws_cdk import aws_ivs as ivs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk.config import StageConfig
from cdk.constructs.playback_cdn import PlaybackDistribution
from cdk.constructs.playback_key import PlaybackKey
from cdk.constructs.replay_cdn import EdgeVersionReader, ReplayDistribution
from cdk.constructs.secure_bucket import SecureBucket
from cdk.constructs.shared_layer import SharedLayer
from cdk.stacks.data_stack import DataStack
from cdk.stacks.replay_edge_stack import EDGE_REGION, ReplayEdgeStack, version_parameter_name

THUMBNAIL_STORAGE = ("SEQUENTIAL", "LATEST")   # every thumbnail, plus latest.jpg for covers


class MediaStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, data: DataStack,
                 replay_edge: ReplayEdgeStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        self.add_stack_dependency(data, "the playback key secret is encrypted with the data stack's key")
        self.add_stack_dependency(replay_edge, "the replay distribution runs the replay edge function's "
                                               "version, published in us-east-1 (read from SSM there)")
        prefix = config.prefix

        # Buckets -----------------------------------------------------------------
        self.logs_bucket = SecureBucket(
            self,
            "LogsBucket",
            removal_policy=config.removal_policy,
            noncurrent_version_days=1,
            expiration_days=config.access_log_expiry_days,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        ).bucket
        transitions = []
        if config.recording_expiry_days is None or config.recording_expiry_days > config.recording_tiering_days:
            transitions.append(s3.Transition(storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                                             transition_after=Duration.days(config.recording_tiering_days)))
        self.recordings_bucket = SecureBucket(
            self,
            "RecordingsBucket",
            removal_policy=config.removal_policy,
            noncurrent_version_days=config.noncurrent_version_days,
            access_logs_bucket=self.logs_bucket,
            access_logs_prefix="recordings/",
            expiration_days=config.recording_expiry_days,
            transitions=transitions,
        ).bucket
        # Object Created of <prefix>/events/recording-ended.json starts the replay machine when IVS's
        # Recording End event does not come (media.spec ReplayRecordingObject; docs/replays.md). The
        # bucket property itself, not CDK's notifications custom resource (a Lambda with a managed policy).
        self.recordings_bucket.node.default_child.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
        # Named exports: the API stack's grants name them (and cdk-nag can read the acknowledgement).
        self.recordings_bucket_arn_import = self.export_value(
            self.recordings_bucket.bucket_arn, name=f"{self.stack_name}-RecordingsBucketArn")
        self.recordings_bucket_name_import = self.export_value(
            self.recordings_bucket.bucket_name, name=f"{self.stack_name}-RecordingsBucketName")

        # Recording: every channel the rooms function creates records here ------
        self.recording_configuration = ivs.CfnRecordingConfiguration(
            self,
            "RecordingConfiguration",
            name=f"{prefix}-recordings",
            destination_configuration=ivs.CfnRecordingConfiguration.DestinationConfigurationProperty(
                s3=ivs.CfnRecordingConfiguration.S3DestinationConfigurationProperty(
                    bucket_name=self.recordings_bucket.bucket_name)),
            # A host who reconnects within the window continues the same recording
            # (one replay per session, not one per dropped connection).
            recording_reconnect_window_seconds=config.recording_reconnect_window_seconds,
            rendition_configuration=ivs.CfnRecordingConfiguration.RenditionConfigurationProperty(
                rendition_selection="ALL"),
            thumbnail_configuration=ivs.CfnRecordingConfiguration.ThumbnailConfigurationProperty(
                recording_mode="INTERVAL",
                target_interval_seconds=config.recording_thumbnail_interval_seconds,
                storage=list(THUMBNAIL_STORAGE),
            ),
        )
        # IVS checks the bucket when the configuration is created. Changing these
        # settings replaces the configuration (new ARN): channels created before keep
        # the old one (UpdateChannel moves them), and CloudFormation cannot delete the
        # old one while a channel uses it.
        self.recording_configuration.node.add_dependency(self.recordings_bucket)

        # Playback key pair -------------------------------------------------------
        layer = SharedLayer(self, "SharedLayer", layer_version_name=f"{prefix}-shared-media").layer
        self.playback_key = PlaybackKey(
            self,
            "PlaybackKey",
            config=config,
            secret_name=f"{prefix}/playback-key",
            encryption_key=data.key,
            layer=layer,
        )

        # Playback from the operator's domain -----------------------------------
        self.playback_cdn: PlaybackDistribution | None = None
        if config.serves_playback_from_cdn:
            origin = config.playback_origin_domain or self._derived_playback_host(config)
            self.playback_cdn = PlaybackDistribution(self, "PlaybackCdn", config=config, log_bucket=self.logs_bucket,
                                                      origin_domain=origin)

        # Replays and clips: the recordings bucket behind CloudFront with origin access control, every
        # URL checked by the replay edge function (its version from us-east-1: docs/replays.md)
        self.replay_edge_version = EdgeVersionReader(
            self, "ReplayEdgeVersion", parameter_name=version_parameter_name(config),
            parameter_arn=replay_edge.version_parameter_arn(self), region=EDGE_REGION,
            refresh=replay_edge.bundle_digest, log_retention=config.log_retention,
            removal_policy=config.removal_policy)
        self.replay_cdn = ReplayDistribution(self, "ReplayCdn", bucket=self.recordings_bucket,
                                             log_bucket=self.logs_bucket, prefix=prefix,
                                             edge_version=self.replay_edge_version.version)
        CfnOutput(self, "ReplayBaseUrl", value=self.replay_cdn.base_url)
        self.replay_base_url_import = self.export_value(self.replay_cdn.base_url,
                                                        name=f"{self.stack_name}-ReplayBaseUrl")

        CfnOutput(self, "RecordingConfigurationArn", value=self.recording_configuration_arn)
        CfnOutput(self, "RecordingsBucketName", value=self.recordings_bucket.bucket_name)
        CfnOutput(self, "PlaybackKeyPairArn", value=self.playback_key.key_pair_arn)
        CfnOutput(self, "PlaybackKeySecretName", value=self.playback_key.secret_name)
        # The stage's replay_public_keys (cdk/config.py): the replay edge function bundles it at synth.
        CfnOutput(self, "PlaybackPublicKeyPem", value=self.playback_key.key_pair.public_key_material,
                  description="Put this PEM in the stage's replay_public_keys (cdk/config.py) and deploy again")
        if self.playback_cdn is not None:
            CfnOutput(self, "PlaybackDistributionDomainName", value=self.playback_cdn.domain_name,
                      description="Point the playback domain (CNAME) here")
            CfnOutput(self, "PlaybackDistributionId", value=self.playback_cdn.distribution.distribution_id)

    @property
    def recording_configuration_arn(self) -> str:
        return self.recording_configuration.attr_arn

    @property
    def playback_key_secret_name(self) -> str:
        return self.playback_key.secret_name

    def _derived_playback_host(self, config: StageConfig) -> str:
        """The account's IVS playback host, read from a reserved channel's playbackUrl
        (https://<id>.<region>.playback.live-video.net/api/video/v1/...): never streamed to (no key
        is made for it), so it costs nothing; IVS gives every channel of the account and region
        the same playback host."""
        probe = ivs.CfnChannel(self, "PlaybackHostProbe", name=f"{config.prefix}-playback-host-probe",
                               authorized=True, latency_mode="LOW", type="BASIC")
        return Fn.select(2, Fn.split("/", probe.attr_playback_url))
