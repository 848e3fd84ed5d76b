"""The realtime stack (IoT Core custom authorizer, interaction stream mappings)
and the real-time functions' grants: publish on this stage's room topics only,
timed metadata only for broadcasts, the stream read only for its consumer, and
no stack cycle (Realtime -> Api -> Data)."""
from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

from cdk import nag
from cdk.constructs import grants
from livecommerce.manifest import BY_NAME, FUNCTION_SPECS
from infra_helpers import actions, as_list, function_logical_id, props, resources, role_statements
from livecommerce.interaction import topics
from livecommerce.interaction.spec import BROADCAST_EVENTS, INTERACTION
from livecommerce.manifest import STREAM_CONSUMERS
from livecommerce.manifest import SUBSCRIPTIONS
from livecommerce.identity.spec import IDENTITY
from livecommerce.catalog.spec import CATALOG
from livecommerce.rooms.spec import ROOMS
from livecommerce.orders.spec import ORDERS

pytestmark = pytest.mark.infra

PUBLISHERS = {"interaction", "broadcasts", "realtime_batcher",
              "live_stats",                       # live figures on the host's private topic of the room
              "engagement", "engagement_clock"}   # lottery, poll and quiz state; winners' private messages
STREAM_ACTIONS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                  "dynamodb:ListStreams"}


def _exported(synth, stage: str, import_value: dict) -> tuple[str, dict]:
    """(stack part, value) of the export an Fn::ImportValue names."""
    name = import_value["Fn::ImportValue"]
    for part in ("Data", "Media", "Api"):
        for output in synth.json(stage, part).get("Outputs", {}).values():
            if output.get("Export", {}).get("Name") == name:
                return part, output["Value"]
    raise KeyError(name)


def _interaction_table_id(synth, stage: str) -> str:
    name = INTERACTION.physical_name(synth.config(stage).prefix)
    (logical_id,) = [k for k, r in resources(synth.json(stage, "Data"), "AWS::DynamoDB::Table").items()
                     if props(r)["TableName"] == name]
    return logical_id


# ------------------------------------------------------------------- the stack

def test_realtime_stack_comes_after_the_api_and_nothing_depends_on_it(synth, stage):
    stacks = synth.stages[stage]
    assert {s.stack_name for s in stacks.realtime.dependencies} >= {stacks.api.stack_name, stacks.data.stack_name}
    for other in (stacks.data, stacks.media, stacks.api):
        assert stacks.realtime not in other.dependencies
        assert f"LiveCommerce-{stage}-Realtime" not in json.dumps(synth.json(stage, other.node.id.split("-")[-1]))


def test_iot_custom_authorizer(synth, stage):
    template = synth.json(stage, "Realtime")
    ((authorizer_id, authorizer),) = resources(template, "AWS::IoT::Authorizer").items()
    p = props(authorizer)
    assert p["AuthorizerName"] == f"livecommerce-{stage}-realtime"
    assert p["SigningDisabled"] is True          # username/password: the login token is the password
    assert p["Status"] == "ACTIVE"
    assert p["EnableCachingForHttp"] is False
    part, value = _exported(synth, stage, p["AuthorizerFunctionArn"])
    api = synth.json(stage, "Api")
    assert (part, value) == ("Api", {"Fn::GetAtt": [function_logical_id(api, "realtime_authorizer", stage), "Arn"]})

    # IoT Core may invoke the authorizer function, for this authorizer only.
    (permission,) = [props(r) for r in resources(template, "AWS::Lambda::Permission").values()]
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["Principal"] == "iot.amazonaws.com"
    assert permission["FunctionName"] == p["AuthorizerFunctionArn"]
    assert permission["SourceArn"] == {"Fn::GetAtt": [authorizer_id, "Arn"]}
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert template["Outputs"]["RealtimeAuthorizerName"]["Value"] == p["AuthorizerName"]


def test_the_authorizer_name_the_functions_hand_out_is_the_authorizer(synth, stage):
    api = synth.json(stage, "Api")
    (authorizer,) = resources(synth.json(stage, "Realtime"), "AWS::IoT::Authorizer").values()
    for spec in FUNCTION_SPECS:
        if spec.realtime_client_settings:
            env = props(api["Resources"][function_logical_id(api, spec.name, stage)])["Environment"]["Variables"]
            assert env["REALTIME_AUTHORIZER_NAME"] == props(authorizer)["AuthorizerName"]
    assert [s.name for s in FUNCTION_SPECS if s.realtime_client_settings] == ["interaction"]


def test_no_iot_policies_or_other_resources(synth, stage):
    """The authorizer returns each connection's policy: no standing IoT policy lets anyone publish.
    Beside it the stack holds only the room-entry snapshot's CloudFront distribution, its policies and
    its path filter (cdk/constructs/edge_cdn.py, tests/infra/test_infra_edge.py)."""
    resources = synth.json(stage, "Realtime")["Resources"].values()
    types = [r["Type"] for r in resources]
    edge = {"AWS::CloudFront::Distribution", "AWS::CloudFront::CachePolicy", "AWS::CloudFront::OriginRequestPolicy",
            "AWS::CloudFront::Function"}
    assert set(types) <= {"AWS::IoT::Authorizer", "AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping",
                          "AWS::CDK::Metadata"} | edge
    assert types.count("AWS::IoT::Authorizer") == 1
    assert types.count("AWS::CloudFront::Distribution") == 1 and types.count("AWS::CloudFront::Function") == 1


# ---------------------------------------------------------------- the functions

def test_realtime_specs():
    interaction, broadcasts = BY_NAME["interaction"], BY_NAME["broadcasts"]
    authorizer, batcher = BY_NAME["realtime_authorizer"], BY_NAME["realtime_batcher"]
    # Catalog: GET /v1/rooms/{room_id}/snapshot shows the room's cards with their stock.
    assert interaction.tables_write == (INTERACTION,) and set(interaction.tables_read) == {ROOMS, IDENTITY, CATALOG}
    assert interaction.reads_token_secret and not interaction.ivs_actions
    # Rooms: the room's channel ARN (timed metadata); Orders: a flash sale's stock shards, summed for
    # the units left (docs/flash-sale-units.md). Nothing else is read, nothing but Interaction written.
    assert broadcasts.tables_write == (INTERACTION,) and broadcasts.tables_read == (ROOMS, ORDERS)
    assert broadcasts.ivs_actions == ("PutMetadata",) and not broadcasts.reads_token_secret
    assert authorizer.tables_write == () and set(authorizer.tables_read) == {ROOMS, INTERACTION}
    assert authorizer.reads_token_secret and not authorizer.publishes_realtime
    assert batcher.tables == (INTERACTION,) and not batcher.reads_token_secret
    assert {s.name for s in FUNCTION_SPECS if s.publishes_realtime} == PUBLISHERS


def test_iot_publish_only_on_this_stages_room_topics(synth, stage):
    template = synth.json(stage, "Api")
    pattern_arn = f"arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:topic/lc/{stage}/rooms/*"
    for spec in FUNCTION_SPECS:
        granted = role_statements(template, function_logical_id(template, spec.name, stage))
        iot = [s for s in granted if any(a.startswith("iot:") for a in as_list(s["Action"]))]
        if spec.name not in PUBLISHERS:
            assert iot == [], spec.name
            continue
        publish = [s for s in iot if "iot:Publish" in as_list(s["Action"])]
        assert len(publish) == 1, spec.name
        # Retained room state (late joiners): RetainPublish and GetRetainedMessage on the same topics.
        assert as_list(publish[0]["Action"]) == ["iot:GetRetainedMessage", "iot:Publish", "iot:RetainPublish"]
        assert [nag.flatten_resolved(r) for r in as_list(publish[0]["Resource"])] == [pattern_arn]
        iot_actions = {a for s in iot for a in as_list(s["Action"]) if a.startswith("iot:")}
        assert iot_actions == {"iot:Publish", "iot:RetainPublish", "iot:GetRetainedMessage", "iot:DescribeEndpoint"}
        describe = [s for s in iot if "iot:DescribeEndpoint" in as_list(s["Action"])]
        assert all(as_list(s["Resource"]) == ["*"] for s in describe)
        assert not any(s.get("Condition") for s in iot)


def test_topic_grant_covers_what_the_code_publishes_and_nothing_of_other_stages(stage):
    room, user = "01J0000000000000000000ROOM", "u_1"
    granted = topics.room_prefix(stage, "*")
    for topic in (topics.danmaku_topic(stage, room), topics.events_topic(stage, room),
                  topics.private_topic(stage, room, user)):
        assert fnmatchcase(topic, granted), topic
    other = "prod" if stage != "prod" else "dev"
    assert not fnmatchcase(topics.events_topic(other, room), granted)


def _table_id(synth, stage: str, spec) -> str:
    name = spec.physical_name(synth.config(stage).prefix)
    (logical_id,) = [k for k, r in resources(synth.json(stage, "Data"), "AWS::DynamoDB::Table").items()
                     if props(r)["TableName"] == name]
    return logical_id


def _granted_tables(synth, stage: str, statement: dict) -> set[str]:
    """The Data stack's tables (logical ids) a statement names, by table ARN or one of its indexes."""
    found = set()
    for resource in as_list(statement["Resource"]):
        if isinstance(resource, dict) and "Fn::Join" in resource:
            resource = resource["Fn::Join"][1][0]          # <table ARN>/index/<name>
        if isinstance(resource, dict) and "Fn::ImportValue" in resource:
            part, value = _exported(synth, stage, resource)
            if part == "Data" and "Fn::GetAtt" in value:
                found.add(value["Fn::GetAtt"][0])
    return found


def test_broadcasts_reads_rooms_and_orders_and_writes_only_interaction(synth, stage):
    template = synth.json(stage, "Api")
    orders, rooms, interaction = (_table_id(synth, stage, spec) for spec in (ORDERS, ROOMS, INTERACTION))
    read, written = set(), set()
    for statement in role_statements(template, function_logical_id(template, "broadcasts", stage)):
        dynamodb = {a for a in as_list(statement["Action"]) if a.startswith("dynamodb:")}
        if not dynamodb:
            continue
        tables = _granted_tables(synth, stage, statement)
        assert tables, statement
        read |= tables
        if dynamodb - set(grants.DYNAMODB_READ):
            assert dynamodb == set(grants.DYNAMODB_READ) | set(grants.DYNAMODB_WRITE), statement
            written |= tables
    assert read == {rooms, orders, interaction}
    assert written == {interaction}                 # Orders (the stock shards) and Rooms read-only


def test_timed_metadata_only_for_broadcasts(synth, stage):
    template = synth.json(stage, "Api")
    for spec in FUNCTION_SPECS:
        granted = actions(role_statements(template, function_logical_id(template, spec.name, stage)))
        assert ("ivs:PutMetadata" in granted) == (spec.name == "broadcasts"), spec.name
    broadcasts = role_statements(template, function_logical_id(template, "broadcasts", stage))
    (ivs,) = [s for s in broadcasts if any(a.startswith("ivs:") for a in as_list(s["Action"]))]
    assert as_list(ivs["Action"]) == ["ivs:PutMetadata"]
    assert nag.flatten_resolved(ivs["Resource"]) == "arn:<AWS::Partition>:ivs:<AWS::Region>:<AWS::AccountId>:channel/*"
    # PutMetadata is paced by the cards queue, not by boto3's standard retries.
    env = props(template["Resources"][function_logical_id(template, "broadcasts", stage)])["Environment"]["Variables"]
    assert "AWS_RETRY_MODE" not in env


def test_room_broadcasts_rule(synth, stage):
    template = synth.json(stage, "Api")
    (subscription,) = [s for s in SUBSCRIPTIONS if s.name == "RoomBroadcasts"]
    assert subscription.function == "broadcasts" and subscription.bus == "domain"
    (rule,) = [props(r) for r in resources(template, "AWS::Events::Rule").values()
               if props(r)["Name"] == f"livecommerce-{stage}-RoomBroadcasts"]
    assert rule["EventPattern"] == {"source": ["livecommerce"], "detail-type": list(BROADCAST_EVENTS)}
    assert "EventBus" in json.dumps(rule["EventBusName"])
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_logical_id(template, "broadcasts", stage), "Arn"]}
    assert "DeadLetterConfig" in target


# ------------------------------------------------------------------ the streams

def test_one_mapping_per_stream_consumer(synth, stage):
    template = synth.json(stage, "Realtime")
    api = synth.json(stage, "Api")
    mappings = [props(r) for r in resources(template, "AWS::Lambda::EventSourceMapping").values()]
    assert len(mappings) == len(STREAM_CONSUMERS)
    table_id = _interaction_table_id(synth, stage)
    for consumer in STREAM_CONSUMERS:
        # The consumer's filters, exactly (Lambda event filtering on the stream record).
        (mapping,) = [m for m in mappings if [json.loads(f["Pattern"]) for f in m["FilterCriteria"]["Filters"]]
                      == list(consumer.filters)]
        assert _exported(synth, stage, mapping["FunctionName"]) == \
            ("Api", {"Ref": function_logical_id(api, consumer.function, stage)})
        assert _exported(synth, stage, mapping["EventSourceArn"]) == \
            ("Data", {"Fn::GetAtt": [table_id, "StreamArn"]})
        assert mapping["StartingPosition"] == consumer.starting_position
        assert mapping["BatchSize"] == consumer.batch_size
        assert mapping["MaximumBatchingWindowInSeconds"] == consumer.batching_window_seconds
        assert mapping["ParallelizationFactor"] == consumer.parallelization_factor
        assert mapping["MaximumRetryAttempts"] == consumer.retry_attempts
        assert mapping["MaximumRecordAgeInSeconds"] == max(60, consumer.max_record_age_seconds)
        assert mapping["BisectBatchOnFunctionError"] is True


def test_stream_read_only_for_stream_consumers_and_only_on_the_stream(synth, stage):
    template = synth.json(stage, "Api")
    consumers = {c.function for c in STREAM_CONSUMERS}
    assert consumers == {"realtime_batcher"}
    table_id = _interaction_table_id(synth, stage)
    for spec in FUNCTION_SPECS:
        granted = role_statements(template, function_logical_id(template, spec.name, stage))
        stream = [s for s in granted if STREAM_ACTIONS & set(as_list(s["Action"]))]
        if spec.name not in consumers:
            assert stream == [], spec.name
            continue
        (statement,) = stream
        assert set(as_list(statement["Action"])) == STREAM_ACTIONS
        (resource,) = as_list(statement["Resource"])
        assert _exported(synth, stage, resource) == ("Data", {"Fn::GetAtt": [table_id, "StreamArn"]})


def test_realtime_functions_timeouts_fit_their_callers():
    # IoT Core waits a few seconds for a custom authorizer; coalescing waits take up to seconds.
    assert BY_NAME["realtime_authorizer"].timeout_seconds <= 5
    assert BY_NAME["broadcasts"].timeout_seconds >= 10
    assert BY_NAME["realtime_batcher"].timeout_seconds >= 10


# ------------------------------- asynchronous invocations: slot flushes, commerce timers

# Who may invoke whom (InvocationType=Event): interaction asks realtime_batcher to flush a
# danmaku slot; whoever learns a flash-sale step or a coupon drop is near asks commerce_timers.
DECLARED_INVOKES = {
    "interaction": ("realtime_batcher",),
    "orders": ("commerce_timers",),
    "marketing": ("commerce_timers",),
    "order_expiry": ("commerce_timers",),
    "commerce_timers": ("commerce_timers",),
    "engagement": ("engagement_clock",),           # a lottery's / poll's close within the minute: its timer
    "engagement_clock": ("engagement_clock",),     # the next step's timer
    "costream": ("pk_clock",),                     # a PK's one-second clock
    "live_stats": ("live_stats",),                 # the ticker hands over to its next run
    "stream_events": ("stream_events",),           # a planned switch's check at the window's end
}


def test_only_declared_callers_invoke_functions_and_only_those_functions(synth, stage):
    """lambda:InvokeFunction on exactly the declared functions, each named in <NAME>_FUNCTION;
    nobody else invokes."""
    template = synth.json(stage, "Api")
    callees = {name for names in DECLARED_INVOKES.values() for name in names}
    for spec in FUNCTION_SPECS:
        logical_id = function_logical_id(template, spec.name, stage)
        invokes = [s for s in role_statements(template, logical_id) if "lambda:InvokeFunction" in as_list(s["Action"])]
        env = props(template["Resources"][logical_id])["Environment"]["Variables"]
        assert spec.invokes == DECLARED_INVOKES.get(spec.name, ()), spec.name
        if not spec.invokes:
            assert invokes == [], spec.name
            assert not any(f"{callee.upper()}_FUNCTION" in env for callee in callees), spec.name
            continue
        (statement,) = invokes
        assert as_list(statement["Action"]) == ["lambda:InvokeFunction"]
        resources_ = as_list(statement["Resource"])
        assert len(resources_) == len(spec.invokes)
        for callee, resource in zip(spec.invokes, resources_):
            physical = f"livecommerce-{stage}-{callee.replace('_', '-')}"
            flat = json.dumps(resource)
            assert f"function:{physical}" in flat and "*" not in flat
            assert env[f"{callee.upper()}_FUNCTION"] == physical


def test_commerce_timers_outlast_their_sleep():
    from livecommerce.shared import timers

    # A timer sleeps up to the lead, then runs one step (a transaction and an event).
    assert BY_NAME["commerce_timers"].timeout_seconds >= timers.TIMER_LEAD_SECONDS + 30
    assert BY_NAME["order_expiry"].timeout_seconds <= 60       # the tick itself stays within its minute


@pytest.mark.parametrize("callee", ["realtime_batcher", "commerce_timers"])
def test_asynchronous_requests_for_a_moment_are_not_retried(synth, stage, callee):
    """A flush or a timer retried minutes later would be late (a stale batch, a start at the
    wrong second): no async retries; the caller or the next minute tick is the fallback."""
    template = synth.json(stage, "Api")
    function = function_logical_id(template, callee, stage)
    configs = resources(template, "AWS::Lambda::EventInvokeConfig")
    (config,) = [props(c) for c in configs.values() if function in json.dumps(props(c)["FunctionName"])]
    assert config["MaximumRetryAttempts"] == 0 and config["MaximumEventAgeInSeconds"] == 60


def test_event_consumers_that_invoke_themselves_keep_lambdas_retries(synth, stage):
    """stream_events invokes itself (a planned switch's check) and is an EventBridge target: EventBridge
    invokes asynchronously too, so a no-retry config would drop the IVS events' retries."""
    template = synth.json(stage, "Api")
    function = function_logical_id(template, "stream_events", stage)
    configs = resources(template, "AWS::Lambda::EventInvokeConfig")
    assert not [c for c in configs.values() if function in json.dumps(props(c)["FunctionName"])]
