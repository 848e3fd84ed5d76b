"""The API stack: routes, authorizer, validation, logging, WAF, functions,
least-privilege IAM and the event consumers."""
from __future__ import annotations

import json
import re

import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match

from cdk import nag
from cdk.constructs import grants
from cdk.constructs.lambda_function import FUNCTIONS_DIR, RUNTIME
from livecommerce.manifest import BY_NAME, FUNCTION_SPECS
from livecommerce.shared.spec import FunctionSpec, LongRun, schedule_period_seconds
from cdk.stacks import api_stack
from infra_helpers import (actions, as_list, from_parent, function_logical_id, props, resources, role_statements,
                           statements)
from livecommerce.catalog.spec import CATALOG
from livecommerce.shared.gateway_responses import GATEWAY_RESPONSES
from livecommerce.manifest import ROUTES
from livecommerce.manifest import SUBSCRIPTIONS
from livecommerce.identity.spec import IDENTITY
from livecommerce.manifest import ALL_TABLES
from livecommerce.rooms.lifecycle import PLANNED_SWITCH_SECONDS
from livecommerce.rooms.spec import ROOMS

pytestmark = pytest.mark.infra


# --------------------------------------------------------------------- helpers

def _paths(template: dict) -> dict[str, str]:
    """Resource logical id -> its full path; the root is '/'."""
    api_resources = resources(template, "AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            p = props(api_resources[logical_id])
            parent = p["ParentId"]
            prefix = "" if "Fn::GetAtt" in parent else path_of(parent["Ref"])
            paths[logical_id] = f"{prefix}/{p['PathPart']}"
        return paths[logical_id]

    for logical_id in api_resources:
        path_of(logical_id)
    return paths


def _methods(template: dict) -> dict[tuple[str, str], dict]:
    """(HTTP method, path) -> method properties, OPTIONS included."""
    paths = _paths(template)
    found = {}
    for method in resources(template, "AWS::ApiGateway::Method").values():
        p = props(method)
        resource_id = p["ResourceId"]
        path = "/" if "Fn::GetAtt" in resource_id else paths[resource_id["Ref"]]
        found[(p["HttpMethod"], path)] = p
    return found


def _authorizer_id(template: dict, suffix: str = "-token") -> str:
    """The token authorizer (or, by name suffix, a service-integration route's own authorizer)."""
    (logical_id,) = [k for k, v in resources(template, "AWS::ApiGateway::Authorizer").items()
                     if props(v)["Name"].endswith(suffix)]
    return logical_id


_function_logical_id = function_logical_id
_role_statements = role_statements
_actions = actions


# ---------------------------------------------------------------------- routes

def test_every_route_is_a_method_and_nothing_else(synth, stage):
    methods = _methods(synth.json(stage, "RestApi"))
    assert {key for key in methods if key[0] != "OPTIONS"} == {(r.method, r.path) for r in ROUTES}


def test_the_api_is_in_its_own_nested_stack(synth, stage):
    """What grows with the route table is in the nested stack; the Api stack holds the
    functions and the nested stack, and no API Gateway method or resource."""
    parent = synth.json(stage, "Api")
    assert len(resources(parent, "AWS::CloudFormation::Stack")) == 1
    assert not resources(parent, "AWS::ApiGateway::Method")
    assert not resources(parent, "AWS::ApiGateway::Resource")
    assert not resources(parent, "AWS::ApiGateway::RestApi")
    nested = synth.json(stage, "RestApi")
    assert len(resources(nested, "AWS::ApiGateway::RestApi")) == 1
    assert not resources(nested, "AWS::Lambda::Function")


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_authorizer_exactly_on_token_routes(synth, stage, route):
    template = synth.json(stage, "RestApi")
    method = _methods(template)[(route.method, route.path)]
    params = method.get("RequestParameters", {})
    if route.auth == "token":
        assert method["AuthorizationType"] == "CUSTOM"
        suffix = "-token" if route.integration is None else "-" + route.function.replace("_", "-")
        assert method["AuthorizerId"] == {"Ref": _authorizer_id(template, suffix)}
        assert params.get("method.request.header.Authorization") is True
    else:
        assert method["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in method
        assert "method.request.header.Authorization" not in params
    for name in re.findall(r"\{([^}]+)\}", route.path):
        assert params[f"method.request.path.{name}"] is True


def test_methods_use_lambda_proxy_of_their_function(synth, stage):
    parent = synth.json(stage, "Api")
    methods = _methods(synth.json(stage, "RestApi"))
    for route in ROUTES:
        integration = methods[(route.method, route.path)]["Integration"]
        if route.integration is not None:   # test_service_integration_route
            continue
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        parts = integration["Uri"]["Fn::Join"][1]
        assert parts[-3] == ":lambda:path/2015-03-31/functions/" and parts[-1] == "/invocations"
        assert from_parent(parent, parts[-2]) == _invoked(parent, route.function, stage)


def _alias_of(parent: dict, function_logical_id_: str) -> str | None:
    """The logical id of the function's `live` alias, None when it has none."""
    found = [k for k, r in resources(parent, "AWS::Lambda::Alias").items()
             if props(r)["FunctionName"] == {"Ref": function_logical_id_}]
    assert len(found) <= 1
    return found[0] if found else None


def _invoked(parent: dict, name: str, stage: str) -> dict:
    """What API Gateway invokes for a route function: the `live` alias (SnapStart), else the function."""
    function = _function_logical_id(parent, name, stage)
    alias = _alias_of(parent, function)
    return {"Ref": alias} if alias else {"Fn::GetAtt": [function, "Arn"]}


def test_api_functions_run_with_snapstart_behind_their_live_alias(synth, stage):
    """docs/cold-start.md: every function behind a Lambda-proxy route except docs has SnapStart on its
    published versions, and an alias `live` on the version this deploy published (its init, with what
    livecommerce.shared.warmup loads, is what Lambda snapshots); no other function has either."""
    parent = synth.json(stage, "Api")
    api_functions = {r.function for r in ROUTES if r.integration is None}
    assert api_stack.SNAP_START_FUNCTIONS == api_functions - {"docs"} and "orders" in api_functions
    versions = resources(parent, "AWS::Lambda::Version")
    for spec in FUNCTION_SPECS:
        logical_id = _function_logical_id(parent, spec.name, stage)
        snap = props(parent["Resources"][logical_id]).get("SnapStart")
        alias = _alias_of(parent, logical_id)
        if spec.name in api_stack.SNAP_START_FUNCTIONS:
            assert snap == {"ApplyOn": "PublishedVersions"}, spec.name
            alias_props = props(parent["Resources"][alias])
            assert alias_props["Name"] == "live"
            version = alias_props["FunctionVersion"]["Fn::GetAtt"]
            assert version[1] == "Version" and props(versions[version[0]])["FunctionName"] == {"Ref": logical_id}
        else:
            assert snap is None and alias is None, spec.name


def _execute_api_arn(api_id: str, suffix: list) -> dict:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":execute-api:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, ":", {"Ref": api_id}, *suffix]]}


def test_one_invoke_permission_per_function_for_this_stage_only(synth, stage):
    """API Gateway may invoke each route function through one permission for the
    whole stage (any method and path of this API's <stage>), not one per method;
    not from other stages or the console's test-invoke stage, and no other principal."""
    parent, nested = synth.json(stage, "Api"), synth.json(stage, "RestApi")
    (api_id,) = resources(nested, "AWS::ApiGateway::RestApi")
    granted = {}
    for permission in resources(nested, "AWS::Lambda::Permission").values():
        p = props(permission)
        assert p["Action"] == "lambda:InvokeFunction"
        assert p["Principal"] == "apigateway.amazonaws.com"
        assert p["SourceArn"] == _execute_api_arn(api_id, [f"/{stage}/*/*"])
        function = json.dumps(from_parent(parent, p["FunctionName"]))
        assert function not in granted, f"two permissions for {function}"
        granted[function] = p
    assert set(granted) == {json.dumps(_invoked(parent, name, stage))
                            for name in {r.function for r in ROUTES if r.integration is None}}
    # In the Api stack: the token authorizer's (scoped to the authorizer) and the event rules'.
    by_principal: dict[str, list[dict]] = {}
    for permission in resources(parent, "AWS::Lambda::Permission").values():
        by_principal.setdefault(props(permission)["Principal"], []).append(props(permission))
    assert set(by_principal) == {"apigateway.amazonaws.com", "events.amazonaws.com"}
    # one per authorizer: the token authorizer and each service-integration route's own
    authorizers = {"authorizer", *(r.function for r in ROUTES if r.integration is not None)}
    assert len(by_principal["apigateway.amazonaws.com"]) == len(authorizers)
    assert {json.dumps(a["FunctionName"]) for a in by_principal["apigateway.amazonaws.com"]} == {
        json.dumps({"Fn::GetAtt": [_function_logical_id(parent, name, stage), "Arn"]}) for name in authorizers}
    for authorizer in by_principal["apigateway.amazonaws.com"]:
        source = json.dumps(authorizer["SourceArn"])
        assert "/authorizers/" in source and ":execute-api:" in source


def test_token_authorizer(synth, stage):
    template = synth.template(stage, "RestApi")
    template.resource_count_is("AWS::ApiGateway::Authorizer",
                               1 + sum(1 for r in ROUTES if r.integration is not None))
    template.has_resource_properties("AWS::ApiGateway::Authorizer", {
        "Type": "REQUEST",
        "IdentitySource": "method.request.header.Authorization",
        "AuthorizerResultTtlInSeconds": 300,
    })


def test_request_validator_on_every_route(synth, stage):
    template = synth.json(stage, "RestApi")
    (validator_id, validator) = next(iter(resources(template, "AWS::ApiGateway::RequestValidator").items()))
    assert props(validator)["ValidateRequestBody"] is True
    assert props(validator)["ValidateRequestParameters"] is True
    for (http_method, path), method in _methods(template).items():
        if http_method != "OPTIONS":
            assert method["RequestValidatorId"] == {"Ref": validator_id}, (http_method, path)


def test_cors_preflight(synth, stage):
    template = synth.json(stage, "RestApi")
    methods = _methods(template)
    origins = synth.config(stage).cors_allowed_origins
    for path in {r.path for r in ROUTES}:
        preflight = methods[("OPTIONS", path)]
        assert preflight["AuthorizationType"] == "NONE"
        headers = preflight["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Headers"] == \
            "'Authorization,Content-Type,Idempotency-Key'"
        allowed = headers["method.response.header.Access-Control-Allow-Origin"].strip("'")
        assert allowed == origins[0]


def test_stage_logging_metrics_tracing_and_throttling(synth, stage):
    config = synth.config(stage)
    template = synth.json(stage, "RestApi")
    (api_stage,) = resources(template, "AWS::ApiGateway::Stage").values()
    p = props(api_stage)
    assert p["StageName"] == stage
    assert p["TracingEnabled"] is True
    (settings,) = p["MethodSettings"]
    assert settings["HttpMethod"] == "*" and settings["ResourcePath"] == "/*"
    assert settings["MetricsEnabled"] is True
    assert settings["LoggingLevel"] == config.api_execution_log_level
    assert settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] == config.api_throttle_rate
    assert settings["ThrottlingBurstLimit"] == config.api_throttle_burst

    access = p["AccessLogSetting"]
    # The access log group (a fixed name) stays in the Api stack, passed in.
    destination = from_parent(synth.json(stage, "Api"), access["DestinationArn"])
    assert destination["Fn::GetAtt"][1] == "Arn"
    assert destination["Fn::GetAtt"][0] in resources(synth.json(stage, "Api"), "AWS::Logs::LogGroup")
    # The format is JSON once API Gateway fills in the $context variables.
    sample = re.sub(r"\$context\.[A-Za-z.]+", "1", access["Format"])
    fields = json.loads(sample)
    assert {"requestId", "ip", "route", "status", "latencyMs"} <= set(fields)


def test_api_gateway_account_logging_role_has_no_managed_policy(synth, stage):
    template = synth.json(stage, "Api")
    (account,) = resources(template, "AWS::ApiGateway::Account").values()
    role_id = props(account)["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in props(template["Resources"][role_id])


def test_gateway_responses_are_problem_json_with_cors(synth, stage):
    template = synth.json(stage, "RestApi")
    found = {props(r)["ResponseType"]: props(r)
             for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()}
    assert set(found) == set(GATEWAY_RESPONSES)
    for response_type, response in found.items():
        headers = response["ResponseParameters"]
        assert headers["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        assert "gatewayresponse.header.Access-Control-Allow-Origin" in headers
        body = json.loads(response["ResponseTemplates"]["application/json"])
        assert {"type", "title", "detail", "code"} <= set(body)
        status = GATEWAY_RESPONSES[response_type][0]
        if response_type.startswith("DEFAULT_"):
            assert "StatusCode" not in response      # API Gateway's own 4xx/5xx code is kept
        else:
            assert response["StatusCode"] == str(status) and body["status"] == status


def test_waf_rate_limit_and_managed_rules_on_the_stage(synth, stage):
    config = synth.config(stage)
    template = synth.json(stage, "Api")
    (acl_id, acl) = next(iter(resources(template, "AWS::WAFv2::WebACL").items()))
    assert props(acl)["Scope"] == "REGIONAL"
    rules = {r["Name"]: r for r in props(acl)["Rules"]}
    rate = rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP"
    assert rate["Limit"] == config.waf_rate_limit_per_5min
    assert rate.get("EvaluationWindowSec", 300) == 300
    assert "Block" in rules["RateLimitPerIp"]["Action"]
    assert rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"

    # The association is in the stage's (nested) stack, with the Api stack's ACL.
    nested = synth.json(stage, "RestApi")
    assert not resources(template, "AWS::WAFv2::WebACLAssociation")
    (association,) = resources(nested, "AWS::WAFv2::WebACLAssociation").values()
    assert from_parent(template, props(association)["WebACLArn"]) == {"Fn::GetAtt": [acl_id, "Arn"]}
    (stage_id,) = resources(nested, "AWS::ApiGateway::Stage")
    assert {"Ref": stage_id} in props(association)["ResourceArn"]["Fn::Join"][1]


# ------------------------------------------------------------------- functions

def test_functions_runtime_architecture_tracing_and_layer(synth, stage):
    latest_python = max((r for r in lambda_.Runtime.ALL if r.name.startswith("python")),
                        key=lambda r: tuple(int(x) for x in r.name.removeprefix("python").split(".")))
    assert RUNTIME.name == latest_python.name, "cdk-nag AwsSolutions-L1 wants the newest Python runtime"
    template = synth.json(stage, "Api")
    (layer_id,) = resources(template, "AWS::Lambda::LayerVersion")
    functions = resources(template, "AWS::Lambda::Function")
    assert len(functions) == len(FUNCTION_SPECS)
    for logical_id, function in functions.items():
        p = props(function)
        assert p["Runtime"] == RUNTIME.name
        assert p["Architectures"] == ["arm64"]
        assert p["Handler"] == "handler.handler"
        assert p["TracingConfig"] == {"Mode": "Active"}
        assert p["Layers"] == [{"Ref": layer_id}]
        assert "LogGroup" in p["LoggingConfig"]


def test_function_log_groups_have_retention(synth, stage):
    for log_group in resources(synth.json(stage, "Api"), "AWS::Logs::LogGroup").values():
        assert props(log_group)["RetentionInDays"] > 0


@pytest.mark.parametrize("spec", FUNCTION_SPECS, ids=lambda s: s.name)
def test_function_environment(synth, stage, spec):
    template = synth.json(stage, "Api")
    env = props(template["Resources"][_function_logical_id(template, spec.name, stage)])["Environment"]["Variables"]
    prefix = f"livecommerce-{stage}"
    assert env["STAGE"] == stage
    assert env["POWERTOOLS_SERVICE_NAME"] == spec.name
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "LiveCommerce"
    assert env["EVENT_BUS_NAME"] == f"{prefix}-bus"
    assert env["TOKEN_SECRET_ID"] == f"{prefix}/token-signing-key"
    assert env["PROVIDERS_SECRET_ID"] == f"{prefix}/login-providers"
    assert env["WECHAT_API_BASE"] == "https://api.weixin.qq.com"
    assert env["ALIPAY_GATEWAY"] == "https://openapi.alipay.com/gateway.do"
    assert env["TOKEN_TTL_SECONDS"] == str(synth.config(stage).token_ttl_seconds)
    assert {"MATERIALS_BUCKET", "EXPORTS_BUCKET"} <= set(env)
    table_vars = {k: v for k, v in env.items() if k.endswith("_TABLE")}
    assert table_vars == {t.env_var: t.physical_name(prefix) for t in spec.tables}
    # Media settings only where the spec asks for them.
    config = synth.config(stage)
    assert ("PLAYBACK_KEY_SECRET_ID" in env) == spec.reads_playback_key
    assert env.get("CURSOR_SECRET_ID") == (f"{prefix}/cursor-signing-key" if spec.reads_cursor_secret else None)
    if spec.reads_playback_key:
        assert env["PLAYBACK_KEY_SECRET_ID"] == f"{prefix}/playback-key"
        if config.playback_domain or not config.serves_playback_from_cdn:
            assert env["PLAYBACK_DOMAIN"] == config.playback_domain
        else:   # the playback distribution's own name, imported from the media stack
            assert "PlaybackCdn" in json.dumps(env["PLAYBACK_DOMAIN"]), env["PLAYBACK_DOMAIN"]
    assert ("PII_KEY_ID" in env) == bool(spec.pii_encryption_context)
    if spec.pii_encryption_context:
        assert "PiiKey" in json.dumps(env["PII_KEY_ID"])
    assert ("RECORDING_CONFIGURATION_ARN" in env) == spec.media_settings
    if spec.media_settings:
        assert "RecordingConfiguration" in json.dumps(env["RECORDING_CONFIGURATION_ARN"])
        assert env["RECONNECT_WINDOW_SECONDS"] == str(config.recording_reconnect_window_seconds)
    # IVS control-plane callers retry in standard mode; PutMetadata is paced by its caller.
    assert env.get("AWS_RETRY_MODE") == ("standard" if spec.ivs_retry_mode else None)
    # Payments: the secret, the notify base (without /v1) and the providers' endpoints.
    assert ("PAYMENTS_SECRET_ID" in env) == spec.reads_payments_secret
    if spec.reads_payments_secret:
        assert env["PAYMENTS_SECRET_ID"] == f"{prefix}/payment-providers"
        assert env["PAYMENT_NOTIFY_BASE"] == config.api_public_base
        assert env["PAYMENT_NOTIFY_BASE"].startswith("https://")
        assert not env["PAYMENT_NOTIFY_BASE"].endswith(("/", "/v1"))
        assert env["WECHATPAY_API_BASE"] == "https://api.mch.weixin.qq.com"
        assert env["ALIPAY_PAY_GATEWAY"] == "https://openapi.alipay.com/gateway.do"
    else:
        assert not {"PAYMENT_NOTIFY_BASE", "WECHATPAY_API_BASE", "ALIPAY_PAY_GATEWAY"} & set(env)
    assert env.get("ORDER_PAYMENT_WINDOW_SECONDS") == \
        (str(config.order_payment_window_seconds) if spec.creates_orders else None)
    # Realtime credentials: the ATS endpoint is looked up at run time, the authorizer name is the stage's.
    assert ("REALTIME_AUTHORIZER_NAME" in env) == spec.realtime_client_settings
    if spec.realtime_client_settings:
        assert env["REALTIME_ENDPOINT"] == ""
        assert env["REALTIME_AUTHORIZER_NAME"] == f"{prefix}-realtime"


# ------------------------------------------------------------ function specs

def _function_folders() -> set[str]:
    return {p.name for p in FUNCTIONS_DIR.iterdir() if p.is_dir() and (p / "handler.py").is_file()}


def test_every_function_folder_has_a_spec_and_every_spec_a_folder():
    assert _function_folders() == set(BY_NAME)


def test_every_route_and_subscription_function_has_a_spec():
    assert {r.function for r in ROUTES} <= set(BY_NAME)
    assert {s.function for s in SUBSCRIPTIONS} <= set(BY_NAME)
    assert "authorizer" in BY_NAME


def test_a_missing_spec_stops_the_build(monkeypatch):
    monkeypatch.setattr(api_stack, "BY_NAME", {k: v for k, v in BY_NAME.items() if k != "stream_events"})
    with pytest.raises(LookupError, match="stream_events"):
        api_stack.check_function_specs()


def test_ivs_actions_are_known_with_their_resource_types():
    for spec in FUNCTION_SPECS:
        assert set(spec.ivs_actions) <= set(grants.IVS_ACTION_RESOURCES), spec.name
    with pytest.raises(KeyError, match="IVS_ACTION_RESOURCES"):
        grants.ivs_statements(actions=["CreateIngestConfiguration"], resource_arns={})
    with pytest.raises(ValueError):
        FunctionSpec(name="x", description="x", ivs_actions=("ivs:GetChannel",))
    with pytest.raises(ValueError):
        FunctionSpec(name="x", description="x", materials_prefix="rooms")


def test_rooms_and_stream_events_specs():
    rooms, stream_events = BY_NAME["rooms"], BY_NAME["stream_events"]
    # Room assistants (PUT/DELETE /v1/rooms/{room_id}/assistants) are identity's items, written through
    # identity's face (identity.grant_assistant / revoke_assistant) by the rooms function: a write of
    # Identity (which implies its reads: host profiles).
    assert rooms.tables_write == (ROOMS, IDENTITY) and rooms.tables_read == (CATALOG,)
    assert rooms.reads_token_secret and rooms.reads_playback_key and rooms.puts_events
    assert rooms.pii_encryption_context == ("room_id", "viewer_id")
    assert rooms.materials_prefix == "rooms/"
    assert set(rooms.ivs_actions) == {"CreateChannel", "GetChannel", "ListChannels", "TagResource",
                                      "CreateStreamKey", "GetStreamKey", "ListStreamKeys", "DeleteStreamKey",
                                      "StopStream", "DeleteChannel"}
    # The consumer only records facts and publishes events: no IVS, no secrets, no other table; it
    # invokes only itself (a planned switch's check, sleeping up to the window: lifecycle.held_by_switch).
    assert stream_events.tables == (ROOMS,) and stream_events.puts_events
    assert stream_events.invokes == ("stream_events",)
    assert PLANNED_SWITCH_SECONDS + 5 < stream_events.timeout_seconds <= 60
    assert not (stream_events.ivs_actions or stream_events.reads_token_secret or stream_events.reads_playback_key
                or stream_events.pii_encryption_context or stream_events.materials_prefix)


# ------------------------------------------------------------------------- IAM

# Actions that take no resource (Resource '*'), acknowledged (AwsSolutions-IAM5) on each role.
UNSCOPED_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "iot:DescribeEndpoint")


def test_no_wildcard_actions_or_resources_except_unscoped_ones(synth, stage):
    for part in ("Data", "Media", "Api", "Realtime"):
        for logical_id, statement in statements(synth.json(stage, part)):
            if statement["Effect"] != "Allow":
                continue
            actions_ = as_list(statement["Action"])
            assert not any(a == "*" or a.endswith(":*") for a in actions_), (logical_id, actions_)
            if "*" in as_list(statement["Resource"]):
                assert all(a in UNSCOPED_ACTIONS for a in actions_), (logical_id, statement)


def test_least_privilege_per_function(synth, stage):
    template = synth.json(stage, "Api")
    allowed = {
        name: _actions(_role_statements(template, _function_logical_id(template, name, stage)))
        for name in BY_NAME
    }
    base = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    assert allowed["docs"] == base
    # The token key, and reads of the identity table (a token's user must exist): nothing that writes.
    assert allowed["authorizer"] - base == {"secretsmanager:GetSecretValue", "kms:Decrypt", "kms:DescribeKey",
                                            *grants.DYNAMODB_READ}
    assert "events:PutEvents" in allowed["identity"]
    assert "dynamodb:PutItem" in allowed["identity"]
    assert "dynamodb:PutItem" in allowed["domain_events"]
    assert not any(a.startswith(("secretsmanager:", "events:")) for a in allowed["domain_events"])


def _role_of(template: dict, function_logical_id: str) -> str:
    return props(template["Resources"][function_logical_id])["Role"]["Fn::GetAtt"][0]


def test_every_wildcard_resource_is_acknowledged_on_its_role(synth, stage):
    """No unscoped wildcard: each resource with a '*' in a function's policy is one
    this role acknowledges (AwsSolutions-IAM5) with a reason; a bare '*' only for X-Ray."""
    acknowledged: dict[str, set[str]] = {}
    for path, rule_id, _reason in nag.acknowledgements(synth.app):
        if rule_id.startswith("AwsSolutions-IAM5[Resource::"):
            acknowledged.setdefault(path, set()).add(rule_id[len("AwsSolutions-IAM5[Resource::"):-1])
    for part in ("Api", "Media"):
        template = synth.json(stage, part)
        stack = getattr(synth.stages[stage], part.lower())
        for function_id in resources(template, "AWS::Lambda::Function"):
            role_id = _role_of(template, function_id)
            role_path = next(c.node.path for c in stack.node.find_all()
                             if stack.resolve(getattr(c, "logical_id", None) or "") == role_id)
            role_path = role_path.rsplit("/", 1)[0] if role_path.endswith("/Resource") else role_path
            for statement in _role_statements(template, function_id):
                for resource in as_list(statement["Resource"]):
                    flat = nag.flatten_resolved(resource)
                    if "*" not in flat:
                        continue
                    assert flat in acknowledged.get(role_path, set()), (role_path, flat)
                    if flat == "*":
                        assert all(a in UNSCOPED_ACTIONS for a in as_list(statement["Action"])), statement


def test_rooms_grants(synth, stage):
    template = synth.json(stage, "Api")
    granted = _role_statements(template, _function_logical_id(template, "rooms", stage))
    by_action: dict[str, list[dict]] = {}
    for statement in granted:
        for action in as_list(statement["Action"]):
            by_action.setdefault(action, []).append(statement)

    # PII key: exactly Encrypt/Decrypt, bound to the {room_id, viewer_id} context.
    (pii,) = [s for s in granted if "PiiKey" in json.dumps(s["Resource"])]
    assert sorted(as_list(pii["Action"])) == ["kms:Decrypt", "kms:Encrypt"]
    assert pii["Condition"]["ForAllValues:StringEquals"] == {"kms:EncryptionContextKeys": ["room_id", "viewer_id"]}
    assert pii["Condition"]["Null"] == {"kms:EncryptionContext:room_id": "false",
                                        "kms:EncryptionContext:viewer_id": "false"}

    # IVS: only channels and stream keys of this account and region, each action on its resource types.
    ivs_resources: dict[str, set[str]] = {}
    for statement in granted:
        for action in as_list(statement["Action"]):
            if action.startswith("ivs:"):
                ivs_resources.setdefault(action, set()).update(
                    nag.flatten_resolved(r) for r in as_list(statement["Resource"]))
    arn = "arn:<AWS::Partition>:ivs:<AWS::Region>:<AWS::AccountId>:{}/*"
    actions = BY_NAME["rooms"].ivs_actions
    assert ivs_resources == {f"ivs:{action}": {arn.format(t) for t in grants.ivs_action_types(action, actions)}
                             for action in actions}
    assert ivs_resources["ivs:TagResource"] == {arn.format("channel"), arn.format("stream-key")}

    # Materials: objects and listing under rooms/ only.
    prefix = f"LiveCommerce-{stage}-Data-MaterialsBucketArn"
    (objects,) = [s for s in by_action["s3:PutObject"] if "MaterialsBucketArn" in json.dumps(s["Resource"])]
    assert sorted(as_list(objects["Action"])) == ["s3:GetObject", "s3:PutObject"]
    # Public covers: PutObject only (CopyObject's write side), under covers/ of the web stack's
    # public-covers bucket only: no read, list or delete there (rooms.public_covers)
    (covers,) = [s for s in by_action["s3:PutObject"] if s is not objects]
    assert as_list(covers["Action"]) == ["s3:PutObject"]
    flat = nag.flatten_resolved(covers["Resource"])
    assert "PublicCoversBucket" in flat and flat.endswith("/covers/*"), flat
    assert nag.flatten_resolved(objects["Resource"]) == f"{prefix}/rooms/*"
    (listing,) = by_action["s3:ListBucket"]
    assert nag.flatten_resolved(listing["Resource"]) == prefix
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["rooms/*"]}}
    assert not any(a.startswith("s3:") and a not in ("s3:PutObject", "s3:GetObject", "s3:ListBucket")
                   for a in by_action)

    # The data key only through the services that use it for this function.
    via = set()
    for statement in granted:
        if "DataKey" in json.dumps(statement["Resource"]):
            via.update(json.dumps(v) for v in statement["Condition"]["StringEquals"]["kms:ViaService"])
    assert {next(p for p in ("dynamodb.", "secretsmanager.", "s3.") if p in v) for v in via} == \
        {"dynamodb.", "secretsmanager.", "s3."}
    assert "events:PutEvents" in by_action


def test_stream_events_grants(synth, stage):
    template = synth.json(stage, "Api")
    allowed = _actions(_role_statements(template, _function_logical_id(template, "stream_events", stage)))
    assert not any(a.startswith(("ivs:", "s3:", "secretsmanager:")) for a in allowed)
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "events:PutEvents"} <= allowed
    # Itself, asynchronously, for a planned switch's check; no other function.
    (invoke,) = [s for s in _role_statements(template, _function_logical_id(template, "stream_events", stage))
                 if "lambda:InvokeFunction" in as_list(s["Action"])]
    assert "stream-events" in json.dumps(invoke["Resource"]) and len(as_list(invoke["Resource"])) == 1
    assert "kms:Encrypt" not in allowed or all(
        "PiiKey" not in json.dumps(s["Resource"])
        for s in _role_statements(template, _function_logical_id(template, "stream_events", stage)))


def test_table_grants_name_their_tables_and_indexes(synth, stage):
    template = synth.json(stage, "Api")
    prefix = f"livecommerce-{stage}"
    table_ids = {props(r)["TableName"]: logical_id
                 for logical_id, r in resources(synth.json(stage, "Data"), "AWS::DynamoDB::Table").items()}
    for spec in FUNCTION_SPECS:
        table_statements = [s for s in _role_statements(template, _function_logical_id(template, spec.name, stage))
                            if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
        granted = json.dumps(table_statements)
        for table in ALL_TABLES:
            export = f"ExportsOutputFnGetAtt{table_ids[table.physical_name(prefix)]}Arn"
            assert (export in granted) == (table in spec.tables), (spec.name, table.logical_id)
        for table in spec.tables:
            for index in table.indexes:
                assert f"/index/{index.name}" in granted
        assert "/index/*" not in granted
        # No table wildcard of any kind: every table, index and stream ARN is named.
        for statement in table_statements:
            for resource in as_list(statement["Resource"]):
                assert "*" not in nag.flatten_resolved(resource), (spec.name, resource)


def test_secret_grants(synth, stage):
    template = synth.json(stage, "Api")
    for spec in FUNCTION_SPECS:
        secret_statements = [s for s in _role_statements(template, _function_logical_id(template, spec.name, stage))
                             if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
        granted = json.dumps(secret_statements)
        assert ("TokenSigningKey" in granted) == spec.reads_token_secret, spec.name
        assert ("LoginProviders" in granted) == spec.reads_providers_secret, spec.name
        assert ("PlaybackKeySecret" in granted) == spec.reads_playback_key, spec.name
        assert ("PaymentProviders" in granted) == spec.reads_payments_secret, spec.name
        assert ("CursorSigningKey" in granted) == spec.reads_cursor_secret, spec.name


# ----------------------------------------------------------------------- events

@pytest.mark.parametrize("subscription", SUBSCRIPTIONS, ids=lambda s: s.name)
def test_event_rule_per_subscription(synth, stage, subscription):
    template = synth.json(stage, "Api")
    rules = [props(r) for r in resources(template, "AWS::Events::Rule").values()
             if props(r)["Name"] == f"livecommerce-{stage}-{subscription.name}"]
    assert len(rules) == 1
    rule = rules[0]
    assert rule["EventPattern"] == subscription.pattern()
    if getattr(subscription, "bus", "domain") == "domain":
        assert "EventBus" in json.dumps(rule["EventBusName"])
    else:
        assert "EventBusName" not in rule   # the account's default bus
    (target,) = rule["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0] == _function_logical_id(template, subscription.function, stage)
    assert "DeadLetterConfig" in target
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == synth.config(stage).event_retry_attempts


def test_ivs_events_rule_is_on_the_default_bus(synth, stage):
    """IVS puts stream and recording state changes on the account's default bus; the
    rule has the subscription's pattern and the same DLQ and retry policy as the others."""
    template = synth.json(stage, "Api")
    config = synth.config(stage)
    rules = {props(r)["Name"]: props(r) for r in resources(template, "AWS::Events::Rule").values()}
    (subscription,) = [s for s in SUBSCRIPTIONS if s.function == "stream_events"]
    assert subscription.bus == "default"
    rule = rules[f"livecommerce-{stage}-{subscription.name}"]
    assert "EventBusName" not in rule
    assert rule["EventPattern"] == {"source": ["aws.ivs"],
                                    "detail-type": ["IVS Stream State Change", "IVS Recording State Change"]}
    (target,) = rule["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0] == _function_logical_id(template, "stream_events", stage)
    (dlq_id,) = resources(template, "AWS::SQS::Queue")
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": config.event_retry_attempts,
                                     "MaximumEventAgeInSeconds": config.event_max_age_hours * 3600}
    # Lambda's own asynchronous retries end in the same queue.
    function = props(template["Resources"][_function_logical_id(template, "stream_events", stage)])
    assert function["DeadLetterConfig"]["TargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}


def test_scheduled_functions(synth, stage):
    template = synth.json(stage, "Api")
    rules = {props(r)["Name"]: props(r) for r in resources(template, "AWS::Events::Rule").values()}
    scheduled = [spec for spec in FUNCTION_SPECS if spec.schedule]
    assert {"outbox_sweeper", "order_expiry", "pk_clock", "reconciliation"} <= {spec.name for spec in scheduled}
    assert len([r for r in rules.values() if "ScheduleExpression" in r]) == len(scheduled)
    invoked = {name for spec in FUNCTION_SPECS for name in spec.invokes}
    for spec in scheduled:
        rule = rules[f"livecommerce-{stage}-{spec.name.replace('_', '-')}-schedule"]
        assert rule["ScheduleExpression"] == spec.schedule
        assert "EventBusName" not in rule      # schedules live on the default bus
        (target,) = rule["Targets"]
        logical_id = _function_logical_id(template, spec.name, stage)
        assert target["Arn"]["Fn::GetAtt"][0] == logical_id
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0   # the next tick retries
        # At most one period of its schedule long (a run that overlaps the next one is safe: every
        # step is a conditional write; one that outlasts several would pile up), unless the spec
        # declares the long runs (a clock, a timer's sleep) with a reason and a maximum; those runs
        # are invoked ones, so some function invokes it.
        assert spec.schedule_problems() == [], spec.schedule_problems()
        assert props(template["Resources"][logical_id])["Timeout"] == spec.timeout_seconds
        if spec.long_run is not None:
            assert spec.name in invoked, f"{spec.name} declares long invoked runs but nothing invokes it"
    long_runs = {spec.name: spec.long_run.max_seconds for spec in scheduled if spec.long_run}
    assert long_runs == {"pk_clock": 900, "engagement_clock": 120}


def test_schedule_rule_for_function_timeouts():
    """The rule test_scheduled_functions holds every spec to, on made-up specs."""
    assert schedule_period_seconds("rate(1 minute)") == 60
    assert schedule_period_seconds("rate(5 minutes)") == 300
    assert schedule_period_seconds("rate(2 hours)") == 7200
    assert schedule_period_seconds("cron(30 2,6 * * ? *)") == 4 * 3600
    assert schedule_period_seconds("cron(0,50 * * * ? *)") == 10 * 60
    assert schedule_period_seconds("cron(15 23 * * ? *)") == 86400
    for unsupported in ("cron(0 8 ? * MON-FRI *)", "cron(0/5 * * * ? *)", "rate(0 minutes)", "at(2024-01-01T00:00:00)"):
        with pytest.raises(ValueError):
            schedule_period_seconds(unsupported)

    def spec(**kw) -> FunctionSpec:
        return FunctionSpec(name="f", description="f", **kw)

    assert spec(schedule="rate(1 minute)", timeout_seconds=60).schedule_problems() == []
    assert spec(schedule="rate(1 minute)", timeout_seconds=61).schedule_problems() != []
    assert spec(schedule="cron(30 2,6 * * ? *)", timeout_seconds=300).schedule_problems() == []
    clock = LongRun(reason="runs a clock", max_seconds=900)
    assert spec(schedule="rate(1 minute)", timeout_seconds=900, long_run=clock).schedule_problems() == []
    assert spec(schedule="rate(1 minute)", timeout_seconds=120,
                long_run=LongRun(reason="sleeps", max_seconds=100)).schedule_problems() != []
    assert spec(schedule="rate(1 minute)", timeout_seconds=30, long_run=clock).schedule_problems() != []
    assert spec(timeout_seconds=900).schedule_problems() == []        # not scheduled: any timeout
    with pytest.raises(ValueError):
        spec(timeout_seconds=900, long_run=clock)                     # long_run without a schedule
    for bad in (dict(reason=" ", max_seconds=60), dict(reason="x", max_seconds=901), dict(reason="x", max_seconds=0)):
        with pytest.raises(ValueError):
            LongRun(**bad)


def test_dead_letter_queue_is_encrypted_and_tls_only(synth, stage):
    template = synth.template(stage, "Api")
    template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
    template.has_resource_properties("AWS::SQS::QueuePolicy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])},
    })


def test_outputs(synth, stage):
    outputs = synth.json(stage, "Api")["Outputs"]
    assert "ApiUrl" in outputs
    assert outputs["EventBusName"]["Value"] == f"livecommerce-{stage}-bus"
    for table in ALL_TABLES:
        assert outputs[f"{table.logical_id}TableName"]["Value"] == table.physical_name(f"livecommerce-{stage}")


def test_service_integration_route(synth, stage):
    """The beacon route: Firehose PutRecordBatch with no Lambda behind it, through a role that may
    put records into the beacons stream only, the request model from beacons.request_schema(),
    the mapping templates of analytics.beacon_gateway, and its own authorizer cached per
    Authorization and X-Playback-Token."""
    from livecommerce.analytics.beacons import request_schema

    nested = synth.json(stage, "RestApi")
    (route,) = [r for r in ROUTES if r.integration is not None]
    method = _methods(nested)[(route.method, route.path)]
    integration = method["Integration"]
    assert integration["Type"] == "AWS" and integration["PassthroughBehavior"] == "NEVER"
    assert ":firehose:action/PutRecordBatch" in json.dumps(integration["Uri"])
    assert "$context.requestTimeEpoch" in integration["RequestTemplates"]["application/json"]
    assert "$context.authorizer.viewer_id" in integration["RequestTemplates"]["application/json"]
    assert sorted(r["StatusCode"] for r in integration["IntegrationResponses"]) == ["202", "400", "503"]
    (model,) = [props(m) for m in resources(nested, "AWS::ApiGateway::Model").values()]
    assert model["Schema"] == request_schema() and method["RequestModels"]["application/json"] == model["Name"]
    role_id = integration["Credentials"]["Fn::GetAtt"][0]
    statements = [st for pol in resources(nested, "AWS::IAM::Policy").values()
                  if {"Ref": role_id} in props(pol)["Roles"] for st in props(pol)["PolicyDocument"]["Statement"]]
    assert [st["Action"] for st in statements] == ["firehose:PutRecordBatch"]
    assert "deliverystream/livecommerce-" + stage + "-analytics-beacons" in json.dumps(statements[0]["Resource"])
    authorizer = props(resources(nested, "AWS::ApiGateway::Authorizer")[_authorizer_id(nested, "-beacon-authorizer")])
    assert authorizer["IdentitySource"] == "method.request.header.Authorization,method.request.header.X-Playback-Token"
    assert authorizer["AuthorizerResultTtlInSeconds"] == route.integration.authorizer_cache_seconds


def test_lottery_functions_pin_the_drand_mainnet_chain(synth, stage):
    """The drand chain key is the trust root of every draw: set on the functions that verify beacons, on no other."""
    from livecommerce.engagement.settings import DRAND_FUNCTIONS, MAINNET_CHAIN_HASH, MAINNET_PUBLIC_KEY

    template = synth.json(stage, "Api")
    for spec in FUNCTION_SPECS:
        env = props(template["Resources"][_function_logical_id(template, spec.name, stage)])["Environment"]["Variables"]
        if spec.name in DRAND_FUNCTIONS:
            assert (env["DRAND_PUBLIC_KEY"], env["DRAND_CHAIN_HASH"], env["DRAND_SCHEME"], env["DRAND_URL"]) == (
                MAINNET_PUBLIC_KEY, MAINNET_CHAIN_HASH, "pedersen-bls-chained", "https://api.drand.sh")
        else:
            assert "DRAND_PUBLIC_KEY" not in env
