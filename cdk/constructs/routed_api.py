"""The REST API, built from the route table (livecommerce.manifest.ROUTES).

Each route becomes a method with a Lambda proxy integration on its function;
"token" routes run the REQUEST token authorizer first and require the
Authorization header, "public" routes do not. Also: request validation, CORS
preflight, problem+json gateway responses, JSON access logs, execution logs,
metrics, X-Ray and stage throttling.

The API itself is a nested stack (`nested_stack`: the RestApi, authorizers, validator,
gateway responses, invoke permissions, deployment and stage). The routes' methods,
resources and CORS preflights live in one more nested stack per route function below it
(`route_stacks`, plan: `plan_route_stacks`), so no stack grows with the whole route table
(CloudFormation takes 500 resources per stack): a resource that the routes of several
functions share is made in the API's stack and handed to each route stack by its id.
The deployment waits for every route stack and changes when any route does
(`routes_fingerprint`). API Gateway invokes each function through one permission for
the whole stage.

A stage deployed before the routes moved into route stacks cannot take this update in
place (the new stacks would make resources and methods that still exist): delete the API
stack's methods first or deploy the API anew; see docs/infra-health.md.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from aws_cdk import Duration, Fn, NestedStack, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk import nag
from cdk.config import PROJECT, StageConfig
from livecommerce.shared.spec import AUTHORIZER_CACHE_SECONDS, Route

_COG4_REASON = ("Users sign in with WeChat/Alipay mini-program login codes, which Cognito user pools cannot "
                "federate; our identity service issues the tokens and the REQUEST Lambda authorizer verifies "
                "them on every token route. Public routes are acknowledged one by one (APIG4).")
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
PROBLEM_CONTENT_TYPE = "application/problem+json"
_PATH_PARAM = re.compile(r"^\{([A-Za-z0-9_]+)\}$")

# One JSON object per request. Numbers API Gateway always sets are unquoted.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "time": "$context.requestTimeEpoch",
    "route": "$context.httpMethod $context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "responseLength": "$context.responseLength",
    "user": "$context.authorizer.principalId",
    "wafStatus": "$context.wafResponseCode",
    "error": "$context.error.message",
    "xrayTraceId": "$context.xrayTraceId",
}
_UNQUOTED = ("time", "status", "latencyMs")


def access_log_format() -> str:
    parts = []
    for key, value in ACCESS_LOG_FORMAT.items():
        parts.append(f'"{key}":{value}' if key in _UNQUOTED else f'"{key}":"{value}"')
    return "{" + ",".join(parts) + "}"


def path_parameters(path: str) -> list[str]:
    return [m.group(1) for part in path.split("/") if (m := _PATH_PARAM.match(part))]


def _prefixes(path: str) -> list[str]:
    """/v1/rooms/{room_id} -> ["/v1", "/v1/rooms", "/v1/rooms/{room_id}"] (the root not included)."""
    parts = [part for part in path.strip("/").split("/") if part]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


@dataclass(frozen=True)
class RouteStackPlan:
    """Which nested stack holds what: one route stack per route function (its routes' methods, and
    the resources only its routes use); resources that the routes of two or more functions share are
    made in the API's own stack (`shared_paths`) and imported by id in each route stack."""
    groups: dict[str, tuple[Route, ...]]
    shared_paths: tuple[str, ...]


def plan_route_stacks(routes: Sequence[Route]) -> RouteStackPlan:
    groups: dict[str, list[Route]] = {}
    users: dict[str, set[str]] = {}
    for route in routes:
        groups.setdefault(route.function, []).append(route)
        for prefix in _prefixes(route.path):
            users.setdefault(prefix, set()).add(route.function)
    shared = sorted((path for path, names in users.items() if len(names) > 1), key=lambda p: (p.count("/"), p))
    return RouteStackPlan(groups={name: tuple(found) for name, found in sorted(groups.items())},
                          shared_paths=tuple(shared))


def routes_fingerprint(routes: Sequence[Route], extra: object = None) -> str:
    """What the deployment's logical id depends on (API Gateway serves a change only after a new
    deployment). CDK does this itself for methods in the API's own stack; the route stacks' methods
    are outside its view, so the deployment hashes what they are built from: every route (its
    declaration, and for a service integration the schema and mapping templates it renders) and `extra`
    (the CORS settings)."""
    parts = []
    for route in sorted(routes, key=lambda r: r.key):
        part = {"route": repr(route)}
        if route.integration is not None:
            part["schema"] = _resolve(route.integration.request_schema)()
            part["templates"] = _resolve(route.integration.templates)("<stream>")
        parts.append(part)
    blob = json.dumps({"routes": parts, "extra": extra}, sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()


class RoutedRestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        routes: Sequence[Route],
        functions: Mapping[str, lambda_.IFunction],
        authorizer_function: lambda_.IFunction,
        gateway_responses: Mapping[str, tuple[int | None, str]],
        service_targets: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        """gateway_responses: API Gateway response type -> (status or None to keep
        API Gateway's own, problem+json body). service_targets: a service-integration route's
        target (ServiceIntegration.target) -> (resource name, ARN), e.g. the beacons delivery stream."""
        super().__init__(scope, id)
        self.routes = tuple(routes)

        # Named and account-level things stay in the enclosing stack: the access log
        # group (a fixed name) and, below, the API Gateway account logging role.
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{config.prefix}-api/access",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        # Everything that grows with the route table (a method per route, a resource and
        # a CORS preflight per path) lives in a nested stack of its own, so the enclosing
        # stack stays far from CloudFormation's 500 resources per stack (the nested stack
        # is one resource there) and the routes have the nested stack's 500 to themselves.
        self.nested_stack = NestedStack(
            self,
            "RestApi",
            description=f"Live commerce {config.name}: REST API resources, methods, authorizer, "
                        "gateway responses and invoke permissions",
        )
        cors = apigw.CorsOptions(
            allow_origins=list(config.cors_allowed_origins),
            allow_methods=sorted({r.method for r in self.routes}),
            allow_headers=list(CORS_ALLOW_HEADERS),
            max_age=Duration.hours(1),
        )
        self.api = apigw.RestApi(
            self.nested_stack,
            "Api",
            rest_api_name=f"{config.prefix}-api",
            description=f"Live commerce API ({config.name})",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=False,  # the account-level role is below (no managed policy)
            deploy_options=apigw.StageOptions(
                stage_name=config.name,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel(config.api_execution_log_level),
                data_trace_enabled=False,  # bodies carry tokens and personal data
                throttling_rate_limit=config.api_throttle_rate,
                throttling_burst_limit=config.api_throttle_burst,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(access_log_format()),
            ),
            default_cors_preflight_options=cors,
        )
        self.stage = self.api.deployment_stage
        # The stack outputs the URL under a stable name (ApiUrl); drop the duplicate.
        self.api.node.try_remove_child("Endpoint")

        self.validator = self.api.add_request_validator(
            "RequestValidator",
            request_validator_name=f"{config.prefix}-validate-body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        self.authorizer = apigw.RequestAuthorizer(
            self.nested_stack,
            "TokenAuthorizer",
            authorizer_name=f"{config.prefix}-token",
            handler=authorizer_function,
            identity_sources=[apigw.IdentitySource.header("Authorization")],
            # The authorizer allows the whole API for a valid token, so one cached
            # answer serves every route.
            results_cache_ttl=Duration.seconds(AUTHORIZER_CACHE_SECONDS),
        )

        self.methods: dict[str, apigw.Method] = {}
        self.service_roles: dict[str, iam.Role] = {}
        self.route_authorizers: dict[str, apigw.RequestAuthorizer] = {}
        self.plan = plan_route_stacks(self.routes)
        # The shared resources (and their preflights) in the API's own stack.
        shared = {path: self._resource(path) for path in self.plan.shared_paths}
        self.route_stacks: dict[str, NestedStack] = {}
        for name, group in self.plan.groups.items():
            if name not in functions:
                raise KeyError(f"route {group[0].key} names unknown function {name!r}")
            stack = NestedStack(self.nested_stack, f"Routes{_pascal(name)}",
                                description=f"Live commerce {config.name}: REST API methods and resources "
                                            f"of the {name} routes")
            self.route_stacks[name] = stack
            imported = apigw.RestApi.from_rest_api_attributes(
                stack, "Api", rest_api_id=self.api.rest_api_id,
                root_resource_id=self.api.rest_api_root_resource_id)
            nodes: dict[str, apigw.IResource] = {"/": imported.root}
            for path in self.plan.shared_paths:
                if any(r.path == path or r.path.startswith(path + "/") for r in group):
                    # Named by its path: the logical ids of the resources made under it stay the same
                    # when other shared paths come or go.
                    nodes[path] = apigw.Resource.from_resource_attributes(
                        stack, "Shared" + _path_id(path), resource_id=shared[path].resource_id,
                        rest_api=imported, path=path)
            integration = None
            for route in group:
                resource = self._route_resource(nodes, route.path, cors)
                if route.integration is not None:
                    self.methods[route.key] = self._add_service_method(
                        config, route, functions[route.function], dict(service_targets or {}), stack, resource)
                    continue
                integration = integration or lambda_proxy_integration(functions[route.function])
                self.methods[route.key] = self._add_method(route, integration, resource)
            nag.acknowledge(stack, "AwsSolutions-COG4", _COG4_REASON)
        # API Gateway serves the routes of a deployment: it comes after every route stack and is a new
        # one whenever a route changes.
        deployment = self.api.latest_deployment
        assert deployment is not None
        deployment.add_to_logical_id({"routes": routes_fingerprint(self.routes, extra=repr(cors))})
        for stack in self.route_stacks.values():
            deployment.node.add_dependency(stack.nested_stack_resource)

        # One invoke permission per function, not one per method: this API's stage may
        # invoke the functions its routes name (a method only ever calls the function
        # its integration names, so a per-method scope would add nothing but a resource
        # per route); other stages and the console's test-invoke stage may not.
        self.invoke_permissions: dict[str, lambda_.CfnPermission] = {}
        source_arn = self.execute_api_arn(config.name)
        for name in sorted({route.function for route in self.routes if route.integration is None}):
            functions[name].add_permission(
                f"ApiInvoke{_pascal(name)}",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=source_arn,
                scope=self.nested_stack,
            )
            self.invoke_permissions[name] = self.nested_stack.node.find_child(f"ApiInvoke{_pascal(name)}")

        # Cognito user pools cannot federate WeChat / Alipay mini-program logins.
        # (COG4 is acknowledged on each route stack, where the methods are.)

        self._add_gateway_responses(config, gateway_responses)
        if config.manage_apigateway_account_role:
            self._add_account_logging_role()

    @property
    def url(self) -> str:
        return self.api.url

    def execute_api_arn(self, stage_name: str) -> str:
        """Every method and path of one stage of this API:
        arn:<partition>:execute-api:<region>:<account>:<api id>/<stage>/*/*."""
        return self.api.arn_for_execute_api(method="*", path="/*", stage=stage_name)

    def _resource(self, path: str) -> apigw.IResource:
        node: apigw.IResource = self.api.root
        for part in path.strip("/").split("/"):
            if part:
                node = node.get_resource(part) or node.add_resource(part)
        return node

    @staticmethod
    def _route_resource(nodes: dict[str, apigw.IResource], path: str, cors: apigw.CorsOptions) -> apigw.IResource:
        """A route stack's resource for `path`: shared ones are imported (in `nodes` already), the rest
        made here under them, each with its CORS preflight."""
        node = nodes["/"]
        for prefix in _prefixes(path):
            if prefix not in nodes:
                nodes[prefix] = node.add_resource(prefix.rsplit("/", 1)[1], default_cors_preflight_options=cors)
            node = nodes[prefix]
        return node

    def _add_method(self, route: Route, integration: apigw.Integration, resource: apigw.IResource) -> apigw.Method:
        params = {f"method.request.path.{name}": True for name in path_parameters(route.path)}
        token = route.auth == "token"
        if token:
            params["method.request.header.Authorization"] = True
        method = resource.add_method(
            route.method,
            integration,
            operation_name=f"{route.function}-{route.method.lower()}-{route.path.strip('/').replace('/', '-')}"
            .replace("{", "").replace("}", ""),
            authorization_type=apigw.AuthorizationType.CUSTOM if token else apigw.AuthorizationType.NONE,
            authorizer=self.authorizer if token else None,
            request_validator=self.validator,
            request_parameters=params or None,
        )
        if not token:
            nag.acknowledge(
                method,
                "AwsSolutions-APIG4",
                f"{route.key} is public by design (route table: auth=public, who={route.who}); "
                "it is rate limited by WAF and stage throttling.",
            )
        return method

    def _add_service_method(self, config: StageConfig, route: Route, authorizer_function: lambda_.IFunction,
                            targets: Mapping[str, tuple[str, str]], scope: Construct,
                            resource: apigw.IResource) -> apigw.Method:
        """A route served by an AWS service integration (Route.integration), no Lambda behind it:
        its own REQUEST authorizer (cached per Authorization and the integration's identity headers),
        the request validator with the route's JSON Schema model, the mapping templates, and a role
        that may call exactly that action on exactly that resource."""
        integration = route.integration
        assert integration is not None
        if integration.service != "firehose" or integration.action != "PutRecordBatch":
            raise NotImplementedError(f"{route.key}: service integration {integration.service}:{integration.action}")
        if integration.target not in targets:
            raise KeyError(f"{route.key}: no service target {integration.target!r} given to the API")
        stream_name, stream_arn = targets[integration.target]
        name = _pascal(route.function)
        role = iam.Role(self.nested_stack, f"{name}IntegrationRole",
                        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
                        description=f"API Gateway: {route.key} -> {integration.service}:{integration.action} "
                                    f"on {stream_name} only")
        role.add_to_policy(iam.PolicyStatement(actions=["firehose:PutRecordBatch"], resources=[stream_arn]))
        self.service_roles[route.key] = role
        authorizer = apigw.RequestAuthorizer(
            self.nested_stack, f"{name}Authorizer", authorizer_name=f"{config.prefix}-{route.function.replace('_', '-')}",
            handler=authorizer_function,
            identity_sources=[apigw.IdentitySource.header("Authorization"),
                              *(apigw.IdentitySource.header(h) for h in integration.identity_headers)],
            results_cache_ttl=Duration.seconds(integration.authorizer_cache_seconds))
        self.route_authorizers[route.key] = authorizer
        request_template, response_templates = _resolve(integration.templates)(stream_name)
        schema = _resolve(integration.request_schema)()
        model_name = "".join(part.title() for part in route.function.split("_")) + "Request"
        model = apigw.CfnModel(scope, f"{name}Model", rest_api_id=self.api.rest_api_id,
                               content_type="application/json", name=model_name, schema=schema,
                               description=f"{route.key} request body (from {integration.request_schema})")
        problem = {"application/problem+json": apigw.Model.EMPTY_MODEL}
        method = resource.add_method(
            route.method,
            apigw.AwsIntegration(
                service=integration.service, action=integration.action, integration_http_method="POST",
                options=apigw.IntegrationOptions(
                    credentials_role=role,
                    passthrough_behavior=apigw.PassthroughBehavior.NEVER,   # other media types: 415
                    request_parameters={"integration.request.header.Content-Type": "'application/x-amz-json-1.1'"},
                    request_templates={"application/json": request_template},
                    integration_responses=[
                        apigw.IntegrationResponse(status_code=str(integration.success_status),
                                                  response_templates={"application/json": response_templates["2xx"]}),
                        apigw.IntegrationResponse(status_code="400", selection_pattern=r"4\d{2}",
                                                  response_templates={"application/json": response_templates["4xx"]}),
                        apigw.IntegrationResponse(status_code="503", selection_pattern=r"5\d{2}",
                                                  response_templates={"application/json": response_templates["5xx"]}),
                    ])),
            operation_name=f"{route.function}-{route.method.lower()}-{route.path.strip('/').replace('/', '-')}"
            .replace("{", "").replace("}", ""),
            authorization_type=apigw.AuthorizationType.CUSTOM,
            authorizer=authorizer,
            request_validator=self.validator,
            request_parameters={**{f"method.request.path.{p}": True for p in path_parameters(route.path)},
                                "method.request.header.Authorization": True,
                                **{f"method.request.header.{h}": True for h in integration.identity_headers}},
            request_models={"application/json": apigw.Model.from_model_name(scope, f"{name}ModelRef",
                                                                             model_name)},
            method_responses=[
                apigw.MethodResponse(status_code=str(integration.success_status),
                                     response_models={"application/json": apigw.Model.EMPTY_MODEL}),
                apigw.MethodResponse(status_code="400", response_models=problem),
                apigw.MethodResponse(status_code="503", response_models=problem),
            ],
        )
        method.node.add_dependency(model)
        return method

    def _add_gateway_responses(self, config: StageConfig, responses: Mapping[str, tuple[int | None, str]]) -> None:
        origins = config.cors_allowed_origins
        # A gateway response cannot choose among several origins; error bodies hold
        # nothing private and no credentials are allowed, so '*' is safe there.
        allow_origin = origins[0] if len(origins) == 1 else "*"
        for response_type, (status, body) in sorted(responses.items()):
            headers = {
                "Content-Type": f"'{PROBLEM_CONTENT_TYPE}'",
                "Access-Control-Allow-Origin": f"'{allow_origin}'",
            }
            if response_type == "UNAUTHORIZED":
                headers["WWW-Authenticate"] = "'Bearer'"
            self.api.add_gateway_response(
                f"Gateway{response_type.title().replace('_', '')}",
                type=apigw.ResponseType.of(response_type),
                status_code=str(status) if status is not None else None,
                response_headers=headers,
                templates={"application/json": body},
            )

    def _add_account_logging_role(self) -> None:
        """API Gateway writes execution and access logs with the account's
        CloudWatch role (one per account and region, shared by every stage)."""
        log_groups = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
        execution_logs = log_groups + "API-Gateway-Execution-Logs_*"
        access_logs = log_groups + f"/aws/apigateway/{PROJECT}-*"
        all_groups = log_groups + "*"
        write_arns = [execution_logs, execution_logs + ":log-stream:*", access_logs, access_logs + ":log-stream:*"]
        role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway account setting: writes API execution and access logs",
            inline_policies={
                "write-api-logs": iam.PolicyDocument(statements=[
                    iam.PolicyStatement(
                        actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                                 "logs:PutLogEvents"],
                        resources=[Fn.sub(arn) for arn in write_arns],
                    ),
                    iam.PolicyStatement(actions=["logs:DescribeLogGroups"], resources=[Fn.sub(all_groups)]),
                ]),
            },
        )
        role.apply_removal_policy(RemovalPolicy.RETAIN)  # other stages in the account may rely on it
        account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        self.stage.node.add_dependency(account)
        for arn, why in (
            (execution_logs, "API Gateway names execution log groups API-Gateway-Execution-Logs_<api id>/<stage> "
                             "itself; the role is account-wide, so it covers every API's groups by that prefix."),
            (execution_logs + ":log-stream:*", "Log streams inside the execution log groups are created by API "
                                               "Gateway with names that are not known in advance."),
            (access_logs, f"The account-wide role serves every stage's access log group; they are all named "
                          f"/aws/apigateway/{PROJECT}-<stage>-api/access, hence the project prefix."),
            (access_logs + ":log-stream:*", "Log streams inside the access log groups are created by API "
                                            "Gateway with names that are not known in advance."),
            (all_groups, "logs:DescribeLogGroups is a list action that only takes the log-group:* resource."),
        ):
            nag.acknowledge(role, f"AwsSolutions-IAM5[Resource::{_flatten_sub(arn)}]", why)


def lambda_proxy_integration(function: lambda_.IFunction) -> apigw.Integration:
    """A Lambda proxy integration (AWS_PROXY, POST to the function's invocations
    path), the one apigw.LambdaIntegration builds, but without its per-method
    permission: RoutedRestApi grants each function once for the whole stage."""
    return apigw.AwsIntegration(
        proxy=True,
        service="lambda",
        path=f"2015-03-31/functions/{function.function_arn}/invocations",
    )


def _resolve(reference: str):
    """A "module:function" a ServiceIntegration names (templates, request schema)."""
    import importlib

    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def _path_id(path: str) -> str:
    """/v1/rooms/{room_id} -> V1RoomsRoomId (a construct id)."""
    return "".join(_pascal(part.strip("{}")) for part in path.strip("/").split("/"))


def _pascal(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _flatten_sub(template: str) -> str:
    """How cdk-nag prints an Fn::Sub resource in a finding id."""
    return template.replace("${", "<").replace("}", ">")


def problem_body_with_correlation_id(body: str) -> str:
    """Add API Gateway's request id (the handlers' correlation id) to a problem body."""
    document = json.loads(body)
    document["correlation_id"] = "$context.requestId"
    return json.dumps(document, ensure_ascii=False)
