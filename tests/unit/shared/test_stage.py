"""The stage is never assumed: without STAGE (or with an unknown one) nothing that
depends on the stage loads, and every such read goes through the one settings object."""
from __future__ import annotations

import pytest

from livecommerce.shared import realtime_publisher
from livecommerce.interaction.settings import get_interaction_settings, reset_interaction_settings
from livecommerce.orders.settings import get_commerce_settings
from livecommerce.shared.settings import DEPLOYED_STAGES, STAGES, StageError, get_settings, reset_settings


@pytest.fixture(autouse=True)
def _fresh_settings():
    reset_settings()
    reset_interaction_settings()
    yield
    reset_settings()
    reset_interaction_settings()


def _readers():
    return {
        "settings": lambda: get_settings().stage,
        "interaction settings": lambda: get_interaction_settings().stage,
        "commerce settings": lambda: get_commerce_settings().stage,
        "realtime endpoint": realtime_publisher.data_endpoint,
    }


def test_without_stage_nothing_loads(monkeypatch):
    for name in ("STAGE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IOT_DATA_PLANE"):
        monkeypatch.delenv(name, raising=False)
    for name, read in _readers().items():
        with pytest.raises(StageError, match="STAGE is not set"):
            read()
        reset_settings()
        reset_interaction_settings()


@pytest.mark.parametrize("value", ["", "staging", "Local", "prod "])
def test_an_unknown_stage_is_refused(monkeypatch, value):
    monkeypatch.setenv("STAGE", value)
    with pytest.raises(StageError):
        get_settings()


@pytest.mark.parametrize("stage", STAGES)
def test_every_reader_sees_the_one_stage(monkeypatch, stage):
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("AWS_ENDPOINT_URL_IOT_DATA_PLANE", "http://127.0.0.1:1")   # no endpoint lookup
    readers = _readers()
    assert readers.pop("realtime endpoint")() is None
    assert {name: read() for name, read in readers.items()} == dict.fromkeys(readers, stage)
    assert get_settings().is_local is (stage == "local")
    assert get_commerce_settings().is_local is (stage == "local")
    assert "local" not in DEPLOYED_STAGES


def test_the_local_lambda_runtime_runs_nothing_without_a_stage(monkeypatch):
    from local import lambda_runtime

    monkeypatch.delenv("STAGE", raising=False)
    with pytest.raises(RuntimeError, match="STAGE is not set"):
        lambda_runtime.invoke("identity", {})
