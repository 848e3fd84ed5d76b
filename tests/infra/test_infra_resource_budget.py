"""CloudFormation takes at most 500 resources per stack (a nested stack is one
resource in its parent and has 500 of its own). Every synthesized stack of every
stage, nested ones included, stays under 80% of that, and the stack that holds
the routes has room for 50 more routes at today's cost per route.

The counts are printed (`pytest -s`) and recorded as test properties (JUnit XML).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra_helpers import props, resources, stack_templates

pytestmark = pytest.mark.infra

RESOURCE_LIMIT = 500        # CloudFormation: resources per stack
BUDGET_SHARE = 0.8          # a stack past this share of the limit fails the build
BUDGET = int(RESOURCE_LIMIT * BUDGET_SHARE)
MORE_ROUTES = 50            # what the open issues add


def resource_count(template: dict) -> int:
    """Resources as CloudFormation counts them. `cdk synth` adds an AWS::CDK::Metadata
    resource to every stack (version reporting), an in-process synth does not: counted anyway."""
    found = template["Resources"]
    return len(found) + (0 if any(r["Type"] == "AWS::CDK::Metadata" for r in found.values()) else 1)


def resource_counts(templates: dict[str, Path]) -> dict[str, int]:
    return {name: resource_count(json.loads(path.read_text())) for name, path in templates.items()}


def over_budget(counts: dict[str, int], budget: int = BUDGET) -> dict[str, int]:
    return {name: count for name, count in counts.items() if count > budget}


def route_cost(template: dict) -> tuple[int, int]:
    """(routes, resources they cost) in one template. A route is a method other than a
    CORS preflight; it costs its method, its path's resources and their OPTIONS methods,
    and any API Gateway invoke permission other than the authorizer's (one per function
    today; counted against the routes anyway, so going back to one per method shows)."""
    methods = resources(template, "AWS::ApiGateway::Method").values()
    routes = sum(1 for m in methods if props(m)["HttpMethod"] != "OPTIONS")
    permissions = sum(1 for p in resources(template, "AWS::Lambda::Permission").values()
                      if props(p)["Principal"] == "apigateway.amazonaws.com"
                      and "/authorizers/" not in json.dumps(props(p).get("SourceArn")))
    return routes, len(methods) + len(resources(template, "AWS::ApiGateway::Resource")) + permissions


def projection(count: int, routes: int, cost: int, more: int = MORE_ROUTES) -> float:
    """The stack's size after `more` routes that each cost what today's routes cost on average."""
    return count + (more * cost / routes if routes else 0)


@pytest.fixture(scope="module")
def templates(synth) -> dict[str, Path]:
    return stack_templates(synth)


def test_every_stack_stays_under_80_percent_of_the_resource_limit(templates, record_property):
    counts = resource_counts(templates)
    assert len(counts) > len({name.split("/")[0] for name in counts}), "expected the nested REST API stacks"
    print("\nresources per stack (CloudFormation limit 500, budget %d):" % BUDGET)
    for name, count in sorted(counts.items()):
        print(f"  {count:4d} ({count / RESOURCE_LIMIT:4.0%})  {name}")
        record_property(f"resources:{name}", count)
    assert over_budget(counts) == {}


def test_fifty_more_routes_fit_in_the_budget(templates, record_property):
    """The routes' resources are spread over several stacks (the API's own and one route stack
    per route function), and the next routes may all land in any one of them (a new function's
    routes, or fifty more of one function). So each stack holding any of them, grown by 50 routes
    at the whole API's average cost per route, is still under 80% of the limit. A stack holding
    API Gateway resources or invoke permissions belongs to an API with routes."""
    costs = {}
    for name, path in sorted(templates.items()):
        template = json.loads(path.read_text())
        routes, cost = route_cost(template)
        if routes or cost:
            costs[name] = (routes, cost, resource_count(template))
    assert costs
    totals: dict[str, tuple[int, int]] = {}     # per stage's Api stack: (routes, their resources)
    for name, (routes, cost, _) in costs.items():
        api = name.split("/")[0]
        totals[api] = (totals.get(api, (0, 0))[0] + routes, totals.get(api, (0, 0))[1] + cost)
    for api, (total_routes, total_cost) in sorted(totals.items()):
        assert total_routes > 0, api
        print(f"\n{api}: {total_routes} routes cost {total_cost} resources ({total_cost / total_routes:.2f} per "
              f"route) in {sum(1 for name in costs if name.split('/')[0] == api)} stacks")
        record_property(f"resources-per-route:{api}", round(total_cost / total_routes, 2))
    for name, (routes, cost, count) in costs.items():
        total_routes, total_cost = totals[name.split("/")[0]]
        projected = projection(count, total_routes, total_cost)
        print(f"  {name}: {routes} routes, {cost} route resources, {count} now, {projected:.0f} after "
              f"{MORE_ROUTES} more routes here (budget {BUDGET})")
        record_property(f"projected-after-{MORE_ROUTES}-routes:{name}", round(projected))
        assert projected < BUDGET, name


# -------------------------------------------------- the checks themselves can fail

def _template(methods: list[tuple[str, str]], n_resources: int, permissions: list[str]) -> dict:
    body = {f"M{i}": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": verb}}
            for i, (verb, _path) in enumerate(methods)}
    body.update({f"R{i}": {"Type": "AWS::ApiGateway::Resource", "Properties": {}} for i in range(n_resources)})
    body.update({f"P{i}": {"Type": "AWS::Lambda::Permission", "Properties": {
        "Principal": "apigateway.amazonaws.com", "SourceArn": arn}} for i, arn in enumerate(permissions)})
    return {"Resources": body}


def test_over_budget_names_the_stacks_past_80_percent():
    assert over_budget({"A": 400, "B": 401, "C": 12}) == {"B": 401}
    assert BUDGET == 400
    metadata = {"Type": "AWS::CDK::Metadata"}
    assert resource_count({"Resources": {"A": {"Type": "AWS::SQS::Queue"}}}) == 2
    assert resource_count({"Resources": {"A": {"Type": "AWS::SQS::Queue"}, "CDKMetadata": metadata}}) == 2


def test_route_cost_counts_methods_preflights_resources_and_per_method_permissions():
    # Two routes on one new path: two methods, the path's resource and its preflight.
    per_function = _template([("GET", "/a"), ("POST", "/a"), ("OPTIONS", "/a")], 1,
                             ["api/prod/*/*", "api/authorizers/x"])
    assert route_cost(per_function) == (2, 3 + 1 + 1)
    # The same routes with one permission per method cost one more each ...
    per_method = _template([("GET", "/a"), ("POST", "/a"), ("OPTIONS", "/a")], 1,
                           ["api/prod/GET/a", "api/prod/POST/a", "api/authorizers/x"])
    assert route_cost(per_method) == (2, 3 + 1 + 2)
    # ... which is what would take today's Api stack (360 resources, 61 routes) past the budget.
    assert projection(360, 61, 247) > BUDGET
    assert projection(211, 61, 194) < BUDGET
    # One stack for all the routes (406 resources, 120 routes at 3.2 each) was past it; the same
    # routes over route stacks of at most ~60 resources each fit 50 more anywhere.
    assert projection(406, 120, 384) > BUDGET
    assert projection(60, 120, 384) < BUDGET


def test_route_stack_plan_shares_only_what_several_functions_use():
    from cdk.constructs.routed_api import plan_route_stacks, routes_fingerprint
    from livecommerce.shared.spec import Route

    routes = [Route("GET", "/v1/rooms/{room_id}", "rooms", "public", "anyone"),
              Route("GET", "/v1/rooms/{room_id}/cards", "catalog", "public", "anyone"),
              Route("PUT", "/v1/rooms/{room_id}/costream/layout", "costream", "token", "host"),
              Route("POST", "/v1/products", "catalog", "token", "operator")]
    plan = plan_route_stacks(routes)
    assert set(plan.groups) == {"rooms", "catalog", "costream"}
    assert [r.path for r in plan.groups["catalog"]] == ["/v1/rooms/{room_id}/cards", "/v1/products"]
    # Used by two or more functions' routes: made once in the API's stack, parents first.
    assert plan.shared_paths == ("/v1", "/v1/rooms", "/v1/rooms/{room_id}")
    # A route change changes the deployment's fingerprint; the same routes in another order do not.
    assert routes_fingerprint(routes) == routes_fingerprint(list(reversed(routes)))
    changed = routes[:3] + [Route("POST", "/v1/products", "catalog", "token", "host")]
    assert routes_fingerprint(changed) != routes_fingerprint(routes)
