"""The local stack's state folder and the workflows: the embedded AWS journals what it stores, not
what it does. After a `kill -9` the journal is replayed: the state machine and a pending reminder
schedule come back, a StartExecution is not run again and an SMS (SNS Publish) is not sent again;
after a clean stop the Scheduler's schedules are in the snapshot. (Were an execution run twice
anyway, the send records' conditional writes make it send nothing: test_reminder_workflow.py,
"a second run sends nothing".)"""
from __future__ import annotations

import json
import pickle
import struct

import boto3
import pytest

from local.embedded_aws import JOURNAL, EmbeddedAwsProcess, _operation

pytestmark = pytest.mark.integration
PASS = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


def _client(url: str, service: str):
    return boto3.client(service, endpoint_url=url, region_name="ap-northeast-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def _journalled(folder) -> list[str]:
    data, offset, found = (folder / JOURNAL).read_bytes(), 0, []
    while offset + 4 <= len(data):
        (size,) = struct.unpack(">I", data[offset:offset + 4])
        environ, body = pickle.loads(data[offset + 4:offset + 4 + size])
        found.append(_operation(environ, body))
        offset += 4 + size
    return found


def test_restart_keeps_schedules_and_never_reruns_executions_or_resends(tmp_path):
    aws = EmbeddedAwsProcess("127.0.0.1", 0, state_dir=tmp_path)
    url = aws.start()
    sfn, scheduler, sns = (_client(url, s) for s in ("stepfunctions", "scheduler", "sns"))
    machine = sfn.create_state_machine(name="m", definition=PASS,
                                       roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    scheduler.create_schedule_group(Name="livecommerce-local-reminders")
    scheduler.create_schedule(Name="room-r1-reminder-15min", GroupName="livecommerce-local-reminders",
                              ScheduleExpression="at(2030-01-01T00:00:00)", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": machine, "RoleArn": "arn:aws:iam::123456789012:role/s", "Input": "{}"})
    sfn.start_execution(stateMachineArn=machine, name="run-1", input="{}")
    sns.publish(PhoneNumber="+8613812345678", Message="reminder")
    operations = _journalled(tmp_path)
    # Scheduler is a REST API (its group and schedule: two POSTs); no StartExecution, no Publish.
    assert operations == ["CreateStateMachine", "POST", "POST"], operations

    aws._proc.kill()                      # kill -9: no snapshot, the journal is all there is
    aws._proc.wait()
    aws = EmbeddedAwsProcess("127.0.0.1", 0, state_dir=tmp_path)
    url = aws.start()
    assert "replayed=" in aws.state_line and "replayed=0" not in aws.state_line
    sfn, scheduler = _client(url, "stepfunctions"), _client(url, "scheduler")
    (restored,) = sfn.list_state_machines()["stateMachines"]
    assert sfn.list_executions(stateMachineArn=restored["stateMachineArn"])["executions"] == []
    assert [s["Name"] for s in scheduler.list_schedules(GroupName="livecommerce-local-reminders")["Schedules"]] \
        == ["room-r1-reminder-15min"]

    aws.stop()                            # a clean stop: everything in the snapshot, the journal empty
    aws = EmbeddedAwsProcess("127.0.0.1", 0, state_dir=tmp_path)
    url = aws.start()
    try:
        assert "snapshot=yes replayed=0" in aws.state_line
        assert [s["Name"] for s in _client(url, "scheduler").list_schedules(
            GroupName="livecommerce-local-reminders")["Schedules"]] == ["room-r1-reminder-15min"]
    finally:
        aws.stop()
