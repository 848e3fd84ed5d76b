"""Notice template ids: the local stand-ins' placeholders on the local stage only; a deployed stage
without an id refuses to send, and the functions that send notices refuse to run at all."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from livecommerce.notifications import KINDS, TemplateIdsMissing, require_template_ids, template_env_var
from livecommerce.notifications.templates import template

ROOT = Path(__file__).resolve().parents[3]


def _all_ids() -> dict[str, str]:
    return {template_env_var(c, k): f"{c}-id-{k}" for c in ("wechat", "alipay") for k in KINDS}


def test_local_stage_uses_the_placeholders_a_deployed_one_refuses_them(monkeypatch):
    for var in _all_ids():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("STAGE", "local")
    require_template_ids()
    assert template("live_now").template_id("wechat") == "local-wechat-live_now"

    monkeypatch.setenv("STAGE", "prod")
    with pytest.raises(TemplateIdsMissing, match="WECHAT_TEMPLATE_LIVE_NOW is not set on stage prod"):
        template("live_now").template_id("wechat")
    with pytest.raises(TemplateIdsMissing) as raised:
        require_template_ids()
    assert all(var in str(raised.value) for var in _all_ids())

    for var, value in _all_ids().items():
        monkeypatch.setenv(var, value)
    require_template_ids()
    assert template("shipped").template_id("alipay") == "alipay-id-shipped"
    monkeypatch.setenv("ALIPAY_TEMPLATE_SHIPPED", "local-alipay-shipped")     # a placeholder copied in
    with pytest.raises(TemplateIdsMissing, match=r"ALIPAY_TEMPLATE_SHIPPED(?!,)"):
        require_template_ids()
    with pytest.raises(TemplateIdsMissing):
        template("shipped").template_id("alipay")


@pytest.mark.parametrize("function", ["notify_tasks", "notice_tasks", "notice_triggers"])
def test_the_sending_functions_refuse_to_run_on_a_deployed_stage_without_ids(monkeypatch, function):
    for var in _all_ids():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("STAGE", "dev")
    spec = importlib.util.spec_from_file_location(f"h5_{function}_handler", ROOT / "functions" / function / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    context = SimpleNamespace(function_name=function, memory_limit_in_mb=256, aws_request_id="r-1",
                              invoked_function_arn=f"arn:aws:lambda:ap-northeast-1:123456789012:function:{function}")
    with pytest.raises(TemplateIdsMissing, match="WECHAT_TEMPLATE_REMINDER_15MIN"):
        module.handler({"task": "check", "id": "e-1"}, context)
