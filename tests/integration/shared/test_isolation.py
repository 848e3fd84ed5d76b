"""Each integration test starts from the moto world as built, whatever the tests before it
wrote (tests/moto_world.py: built once per process, restored from its snapshot per test).

The two cases of `test_a_test_sees_the_world_as_built_and_leaves_nothing_behind` each check
that the world is pristine and then write to every kind of state the tests touch; whichever
runs second in a process fails if the first one's writes were still there. (Under xdist both
run in the same worker: one group.)"""
from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("isolation")]

MARKER_SECRET = "livecommerce-local/isolation-marker"


def _state(session) -> dict:
    """What a test could have left behind, read through the AWS APIs."""
    from local.resources import LocalNames

    ddb = session.client("dynamodb")
    items = {}
    for table in ddb.list_tables()["TableNames"]:
        items[table] = ddb.scan(TableName=table, Select="COUNT")["Count"]
    sqs = session.client("sqs")
    queues = sqs.list_queues().get("QueueUrls", [])
    waiting = {url.rsplit("/", 1)[-1]: int(sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
        for url in queues}
    s3 = session.client("s3")
    objects = {b["Name"]: s3.list_objects_v2(Bucket=b["Name"]).get("KeyCount", 0)
               for b in s3.list_buckets()["Buckets"]}
    secrets = sorted(s["Name"] for s in session.client("secretsmanager").list_secrets()["SecretList"])
    events = session.client("events")
    rules = len(events.list_rules(EventBusName=LocalNames().env()["EVENT_BUS_NAME"])["Rules"])
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iotdata.models import iotdata_backends

    published = len(iotdata_backends[DEFAULT_ACCOUNT_ID][session.region_name].published_payloads)
    return {"items": items, "waiting": waiting, "objects": objects, "secrets": secrets, "rules": rules,
            "published": published}


def _pristine(state: dict) -> None:
    assert state["items"] and not any(state["items"].values()), state["items"]
    assert state["waiting"] and not any(state["waiting"].values()), state["waiting"]
    assert state["objects"] and not any(state["objects"].values()), state["objects"]
    assert MARKER_SECRET not in state["secrets"]
    assert state["published"] == 0


def _write_everywhere(session, tag: str) -> None:
    from local.resources import LocalNames

    env = LocalNames().env()
    ddb = session.client("dynamodb")
    for table in ddb.list_tables()["TableNames"]:
        key = {a["AttributeName"]: {"S": f"isolation#{tag}"}
               for a in ddb.describe_table(TableName=table)["Table"]["KeySchema"]}
        ddb.put_item(TableName=table, Item=key)
    sqs = session.client("sqs")
    for url in sqs.list_queues()["QueueUrls"]:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"tag": tag}))
    s3 = session.client("s3")
    for bucket in (env["MATERIALS_BUCKET"], env["EXPORTS_BUCKET"]):
        s3.put_object(Bucket=bucket, Key=f"isolation/{tag}", Body=b"x")
    sm = session.client("secretsmanager")
    sm.create_secret(Name=MARKER_SECRET, SecretString=tag)
    sm.put_secret_value(SecretId=env["TOKEN_SECRET_ID"], SecretString=f"overwritten-{tag}")
    events = session.client("events")
    events.put_rule(Name=f"isolation-{tag}", EventBusName=env["EVENT_BUS_NAME"],
                    EventPattern=json.dumps({"source": ["isolation"]}))
    session.client("iot-data").publish(topic=f"isolation/{tag}", payload=b"{}")


@pytest.mark.parametrize("tag", ["first", "second"])
def test_a_test_sees_the_world_as_built_and_leaves_nothing_behind(aws_env, tag):
    from local.resources import LocalNames

    before = _state(aws_env)
    _pristine(before)
    token_secret = aws_env.client("secretsmanager").get_secret_value(
        SecretId=LocalNames().env()["TOKEN_SECRET_ID"])["SecretString"]
    assert not token_secret.startswith("overwritten-")
    _write_everywhere(aws_env, tag)
    after = _state(aws_env)
    assert all(after["items"].values()) and all(after["waiting"].values()) and after["published"] == 1
    assert after["rules"] == before["rules"] + 1


def test_restore_puts_back_the_snapshot_and_nothing_else(aws_env):
    """The mechanism itself, within one test: writes everywhere, restore, back to as built."""
    from tests import moto_world

    before = _state(aws_env)
    _write_everywhere(aws_env, "restore")
    assert _state(aws_env) != before
    moto_world.restore(moto_world.WORLD.base)
    assert _state(aws_env) == before
    _pristine(_state(aws_env))


def test_the_seeded_world_has_the_demo_data_and_only_it(seeded, api):
    """`seeded` starts from the seeded snapshot: the demo users log in, the demo products are there,
    and what this test adds is not in the snapshot (the next seeded test starts without it)."""
    from local.seed import DEMO_PRODUCTS
    from tests import moto_world

    operator = api.login("operator-1")
    for product_id, name, *_ in DEMO_PRODUCTS:
        product = api.call("GET", f"/v1/products/{product_id}", token=operator)
        assert product.status == 200 and product.json()["name"] == name, product.body
    seeded_items = _state(seeded)["items"]
    _write_everywhere(seeded, "seeded")
    moto_world.restore(moto_world.WORLD.seeded)
    restored = _state(seeded)
    assert restored["items"] == seeded_items      # the demo data (and the login's writes are gone)
    assert MARKER_SECRET not in restored["secrets"] and restored["published"] == 0
