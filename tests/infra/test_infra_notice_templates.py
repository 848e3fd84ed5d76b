"""The notice template ids are stage configuration (cdk/config.py): required for a deployed stage (or
explicitly pending), checked at synth with the missing kinds named, and passed as
WECHAT_TEMPLATE_<KIND> / ALIPAY_TEMPLATE_<KIND> to the functions that send notices only."""
from __future__ import annotations

import dataclasses
import re

import pytest
from aws_cdk import App, Environment, assertions

from cdk.config import STAGES
from cdk.stacks.api_stack import ApiStack
from cdk.stacks.data_stack import DataStack
from cdk.stacks.media_stack import MediaStack
from cdk.stacks.replay_edge_stack import EDGE_REGION, ReplayEdgeStack
from cdk.stage import FEATURE_FLAGS, cdk_json_context
from infra_helpers import function_logical_id, props, resources
from livecommerce.manifest import FUNCTION_SPECS
from livecommerce.notifications import KINDS

SENDERS = {"notify_tasks", "notice_tasks", "notice_triggers"}
TEMPLATE_VAR = re.compile(r"^(WECHAT|ALIPAY)_TEMPLATE_")


def _ids(channel: str) -> dict[str, str]:
    return {kind: f"{channel}Tpl_{n}-x" for n, kind in enumerate(KINDS)}


def test_a_stage_without_its_template_ids_fails_synth_naming_the_missing_kinds():
    dev = STAGES["dev"]
    with pytest.raises(ValueError) as raised:
        dataclasses.replace(dev, notice_templates_pending=False)
    message = str(raised.value)
    assert "wechat_notice_templates is missing the template ids of " + ", ".join(KINDS) in message
    assert "alipay_notice_templates is missing" in message

    partial = {k: v for k, v in _ids("wechat").items() if k not in ("shipped", "delivered")}
    with pytest.raises(ValueError, match=r"wechat_notice_templates is missing the template ids of shipped, delivered:"):
        dataclasses.replace(dev, notice_templates_pending=False, wechat_notice_templates=partial,
                            alipay_notice_templates=_ids("alipay"))
    with pytest.raises(ValueError, match="not a local- placeholder"):
        dataclasses.replace(dev, notice_templates_pending=False, alipay_notice_templates=_ids("alipay"),
                            wechat_notice_templates={**_ids("wechat"), "live_now": "local-wechat-live_now"})
    with pytest.raises(ValueError, match="unknown notice kinds replay_ready"):
        dataclasses.replace(dev, notice_templates_pending=False, alipay_notice_templates=_ids("alipay"),
                            wechat_notice_templates={**_ids("wechat"), "replay_ready": "abc"})
    with pytest.raises(ValueError, match="drop it"):
        dataclasses.replace(dev, wechat_notice_templates=_ids("wechat"), alipay_notice_templates=_ids("alipay"))


def test_the_functions_that_send_notices_are_the_specs_that_say_so():
    assert {f.name for f in FUNCTION_SPECS if f.sends_notices} == SENDERS


def test_the_template_ids_reach_the_sending_functions_only(tmp_path):
    """The dev stage with every id set, its Api stack synthesized: each sending function has all 14
    variables with the configured ids; no other function has any."""
    config = dataclasses.replace(STAGES["dev"], notice_templates_pending=False,
                                 wechat_notice_templates=_ids("wechat"), alipay_notice_templates=_ids("alipay"))
    app = App(context={**cdk_json_context(), **FEATURE_FLAGS}, outdir=str(tmp_path))
    data = DataStack(app, config.stack_name("Data"), config=config)
    edge = ReplayEdgeStack(app, config.stack_name("ReplayEdge"), config=config, env=Environment(region=EDGE_REGION))
    media = MediaStack(app, config.stack_name("Media"), config=config, data=data, replay_edge=edge)
    api = ApiStack(app, config.stack_name("Api"), config=config, data=data, media=media)
    template = assertions.Template.from_stack(api).to_json()
    expected = {f"{channel.upper()}_TEMPLATE_{kind.upper()}": ids[kind]
                for channel, ids in (("wechat", _ids("wechat")), ("alipay", _ids("alipay"))) for kind in KINDS}
    functions = resources(template, "AWS::Lambda::Function")
    for name in SENDERS:
        variables = props(functions[function_logical_id(template, name, "dev")])["Environment"]["Variables"]
        assert {k: v for k, v in variables.items() if TEMPLATE_VAR.match(k)} == expected, name
    others = [props(r).get("FunctionName") for r in functions.values()
              if not any(props(r).get("FunctionName") == f"livecommerce-dev-{n.replace('_', '-')}" for n in SENDERS)
              and any(TEMPLATE_VAR.match(k) for k in props(r).get("Environment", {}).get("Variables", {}))]
    assert others == []
