"""Shared fixtures: an in-process moto AWS with the stack's resources created
from the same specs as the CDK stacks, and a client that calls the API through
the API Gateway emulation (route table, token authorizer, real handlers)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT / "layers" / "shared" / "python", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from hypothesis import settings as hypothesis_settings  # noqa: E402

from local.resources import LocalNames  # noqa: E402

# The @given tests check properties, not speed: Hypothesis's default 200 ms deadline per
# example would fail them on a GC pause or a busy CI core. HYPOTHESIS_PROFILE picks another.
hypothesis_settings.register_profile("livecommerce", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "livecommerce"))

REGION = "ap-northeast-1"


def _base_env() -> dict[str, str]:
    from local.stepfunctions import workflows_env

    env = LocalNames().env()
    # The workflows' names (<KEY>_STATE_MACHINE_ARN, <KEY>_SCHEDULE_GROUP, SCHEDULER_ROLE_ARN), as the
    # workflows stack and the local stack give them; the moto world creates those machines and groups.
    env.update(workflows_env(LocalNames().prefix, region=REGION))
    env.update({
        "STAGE": "local",   # said, never assumed: product code refuses to run without a stage
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        "POWERTOOLS_DEV": "false", "POWERTOOLS_LOG_LEVEL": "WARNING",
    })
    return env


# Set before any handler module is imported, so nothing can reach real AWS.
for _k, _v in _base_env().items():
    os.environ[_k] = _v
for _k in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
    os.environ.pop(_k, None)

# Every boto3 Session (a new one per client, and clients are dropped between tests) shares one
# botocore data loader, so endpoints.json and the service models are parsed once per process.
from tests.moto_world import share_botocore_loader  # noqa: E402

share_botocore_loader()


def reset_process_state() -> None:
    from livecommerce.identity import service as identity_service
    from livecommerce.shared import aws, paging, settings, tokens

    settings.reset_settings()
    aws.reset_clients()
    tokens.clear_key_cache()
    paging.clear_key_cache()
    identity_service.clear_caches()
    from livecommerce.interaction import feed
    from livecommerce.media import playback
    from local import gateway

    feed.reset()
    gateway.clear_authorizer_cache()

    playback.clear_key_cache()
    from livecommerce import rooms

    rooms.clear_cache()


_SEEDED_WORLD = pytest.StashKey[bool]()


@pytest.fixture
def aws_env(request, monkeypatch):
    """moto with every table, the bus, rules, queues, secrets and buckets.

    The world is built once per test process and restored from its snapshot for each test
    (tests/moto_world.py): a test sees exactly what create_all made (and, with `seeded`, the
    demo data), never what another test wrote."""
    import boto3
    from moto import mock_aws

    from local.embedded_aws import serialize_in_process_moto
    from local.lambda_api import LocalLambdaApi
    from tests import moto_world

    serialize_in_process_moto()
    if moto_world.WORLD.base is None:
        moto_world.WORLD.build(REGION, reset_process_state)
    # A test that asks for `seeded` starts from the seeded snapshot at once (restoring it later
    # would throw away what fixtures set up in between, such as the payments secret).
    seeded = "seeded" in request.fixturenames
    request.node.stash[_SEEDED_WORLD] = seeded
    with mock_aws(), LocalLambdaApi() as lambda_api:
        moto_world.restore(moto_world.WORLD.seeded if seeded else moto_world.WORLD.base)
        # Functions invoking functions (FunctionSpec.invokes) reach the real handlers.
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", lambda_api.url)
        reset_process_state()
        session = boto3.session.Session(region_name=REGION)
        yield session
    reset_process_state()


class ApiClient:
    """Calls the API the way a mini-program does, through the gateway emulation."""

    def __init__(self) -> None:
        from local import gateway

        self._gateway = gateway

    def call(self, method: str, path: str, *, json_body=None, token: str | None = None,
             headers: dict[str, str] | None = None, raw_body: str | bytes | None = None):
        all_headers = {"Content-Type": "application/json"}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        body = raw_body if raw_body is not None else (json.dumps(json_body) if json_body is not None else None)
        return self._gateway.handle(method, path, all_headers, body)

    def login(self, user_id: str) -> str:
        response = self.call("POST", "/v1/auth/login", json_body={"provider": "dev", "code": user_id})
        assert response.status == 200, response.body
        return response.json()["token"]


@pytest.fixture
def api(aws_env) -> ApiClient:
    return ApiClient()


@pytest.fixture
def seeded(request, aws_env):
    """aws_env with the demo data of local.seed (restored by aws_env from the seeded snapshot)."""
    if not request.node.stash.get(_SEEDED_WORLD, False):     # asked for late (request.getfixturevalue)
        from local.seed import seed

        seed()
    return aws_env


@pytest.fixture
def tokens_for(api, seeded):
    """Tokens for the seeded demo users, by user id."""
    cache: dict[str, str] = {}

    def get(user_id: str) -> str:
        if user_id not in cache:
            cache[user_id] = api.login(user_id)
        return cache[user_id]

    return get


@pytest.fixture(scope="session")
def local_ivs_control():
    """The local IVS stand-in's control plane (no RTMP ingest): boto3 `ivs` calls go to it."""
    from local.ivs import LocalIvs

    ivs = LocalIvs(None, ingest=False, reconnect_window_seconds=1)
    ivs.start()
    yield ivs
    ivs.stop()


@pytest.fixture
def ivs_env(seeded, local_ivs_control, monkeypatch):
    """moto for the AWS services it covers, the IVS stand-in for IVS (moto lacks stream keys)."""
    from livecommerce.shared import aws
    from livecommerce.shared.settings import reset_settings

    monkeypatch.setenv("AWS_ENDPOINT_URL_IVS", local_ivs_control.control_url)
    monkeypatch.setenv("RECORDING_CONFIGURATION_ARN", local_ivs_control.recording_configuration_arn)
    reset_settings()
    aws.reset_clients()
    ivs = seeded.client("ivs", endpoint_url=local_ivs_control.control_url)
    for channel in ivs.list_channels()["channels"]:
        ivs.delete_channel(arn=channel["arn"])
    yield seeded


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test`: --dist loadgroup), tests sharing an expensive fixture run
    in one worker: the infra tier (one synth of every stage per process) as one group, and each
    e2e module (its local stack, module-scoped) as its own. Everything else is spread test by test."""
    for item in items:
        parts = Path(str(item.path)).relative_to(ROOT).parts
        if parts[:2] == ("tests", "infra"):
            item.add_marker(pytest.mark.xdist_group("infra"))
        elif parts[:2] == ("tests", "e2e"):
            item.add_marker(pytest.mark.xdist_group("e2e-" + "-".join(parts[2:]).removesuffix(".py")))
