"""The embedded AWS's speed-ups to moto (`local.embedded_aws.speed_up_moto`, `local.moto_speedups`)
give the same answers as moto's own code: the same DynamoDB calls replayed through moto's server
app with and without them (each in a fresh process, the patches being process-wide) give the same
status, headers (less the random request id and the date) and body bytes; SQS sends (whose
answers carry random ids) leave the same messages and queue attributes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
TABLE = "speedups"


def _calls() -> list[tuple[str, dict]]:
    """(operation, body): items of every attribute type, then reads, updates, transactions,
    including refused ones, whose error bodies must match too."""
    calls: list[tuple[str, dict]] = []
    for n in range(60):
        item = {"pk": {"S": "room#1"}, "sk": {"S": f"card#{n:03d}"}, "n": {"N": str(n * 7)},
                "title": {"S": f"商品 {n}"}, "gsi_pk": {"S": f"g#{n % 3}"}, "gsi_sk": {"N": str(n)},
                "tags": {"SS": ["a", f"t{n}"]}, "prices": {"NS": ["1", str(n + 2)]},
                "blob": {"B": "AAEC"}, "flag": {"BOOL": n % 2 == 0}, "none": {"NULL": True},
                "images": {"L": [{"S": "x.png"}, {"M": {"w": {"N": "640"}, "h": {"N": "480"}}}]},
                "meta": {"M": {"stock": {"N": "100"}, "sold": {"N": "0"}, "list": {"L": []}}}}
        calls.append(("PutItem", {"TableName": TABLE, "Item": item}))
    key = {"pk": {"S": "room#1"}, "sk": {"S": "card#007"}}
    calls += [
        ("GetItem", {"TableName": TABLE, "Key": key}),
        ("GetItem", {"TableName": TABLE, "Key": key, "ConsistentRead": True,
                     "ProjectionExpression": "#t, meta.stock, images[1]", "ExpressionAttributeNames": {"#t": "title"},
                     "ReturnConsumedCapacity": "TOTAL"}),
        ("GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "room#1"}, "sk": {"S": "nothing"}}}),
        ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p",
                   "ExpressionAttributeValues": {":p": {"S": "room#1"}}}),
        ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
                   "ExpressionAttributeValues": {":p": {"S": "room#1"}, ":s": {"S": "card#01"}},
                   "ScanIndexForward": False, "Limit": 4, "ReturnConsumedCapacity": "INDEXES"}),
        ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p", "Limit": 7,
                   "ExclusiveStartKey": key, "FilterExpression": "flag = :f",
                   "ExpressionAttributeValues": {":p": {"S": "room#1"}, ":f": {"BOOL": True}}}),
        ("Query", {"TableName": TABLE, "IndexName": "by_gsi", "KeyConditionExpression": "gsi_pk = :g",
                   "ExpressionAttributeValues": {":g": {"S": "g#1"}}, "Select": "COUNT"}),
        ("Query", {"TableName": TABLE, "IndexName": "by_gsi", "KeyConditionExpression": "gsi_pk = :g AND gsi_sk > :n",
                   "ExpressionAttributeValues": {":g": {"S": "g#2"}, ":n": {"N": "20"}}}),
        ("Scan", {"TableName": TABLE, "Limit": 10}),
        ("BatchGetItem", {"RequestItems": {TABLE: {"Keys": [key, {"pk": {"S": "room#1"}, "sk": {"S": "card#008"}}]}}}),
        ("UpdateItem", {"TableName": TABLE, "Key": key, "ReturnValues": "ALL_NEW",
                        "UpdateExpression": "SET meta.sold = meta.sold + :one, #t = :t ADD tags :tag REMOVE #n",
                        "ExpressionAttributeNames": {"#t": "title", "#n": "none"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":t": {"S": "new"}, ":tag": {"SS": ["z"]}}}),
        ("UpdateItem", {"TableName": TABLE, "Key": key, "ReturnValues": "UPDATED_OLD",
                        "UpdateExpression": "SET n = n - :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}),
        ("UpdateItem", {"TableName": TABLE, "Key": key, "ConditionExpression": "meta.stock < :z",
                        "UpdateExpression": "SET n = :z", "ExpressionAttributeValues": {":z": {"N": "0"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
        ("TransactWriteItems", {"TransactItems": [
            {"Update": {"TableName": TABLE, "Key": key, "UpdateExpression": "SET meta.stock = meta.stock - :q",
                        "ConditionExpression": "meta.stock >= :q", "ExpressionAttributeValues": {":q": {"N": "2"}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "order#1"}, "sk": {"S": "order"}, "q": {"N": "2"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}}]}),
        ("TransactWriteItems", {"TransactItems": [   # refused: the order exists; the stock stays
            {"Update": {"TableName": TABLE, "Key": key, "UpdateExpression": "SET meta.stock = meta.stock - :q",
                        "ConditionExpression": "meta.stock >= :q", "ExpressionAttributeValues": {":q": {"N": "2"}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "order#1"}, "sk": {"S": "order"}, "q": {"N": "2"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}}],
            "ReturnConsumedCapacity": "TOTAL"}),
        ("GetItem", {"TableName": TABLE, "Key": key}),
        ("DeleteItem", {"TableName": TABLE, "Key": {"pk": {"S": "room#1"}, "sk": {"S": "card#009"}},
                        "ReturnValues": "ALL_OLD"}),
        ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p",
                   "ExpressionAttributeValues": {":p": {"S": "order#1"}}}),
        ("GetItem", {"TableName": "no-such-table", "Key": key}),
    ]
    return calls


def _replay(mode: str) -> list[list]:
    """In this process: moto's server app, optionally sped up ("fast"), and with DynamoDB calls
    handed straight to moto's handler ("direct", as the embedded AWS serves them); every call's answer."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.test import Client

    app = DomainDispatcherApplication(create_backend_app)
    if mode in ("fast", "direct"):
        from local.embedded_aws import speed_up_moto

        speed_up_moto()
    if mode == "direct":
        from local.embedded_aws import dynamodb_direct

        app = dynamodb_direct(app)
    client = Client(app)
    auth = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host;x-amz-target, Signature=0")

    def call(operation: str, body: dict) -> list:
        response = client.post("/", data=json.dumps(body), headers={
            "Host": "dynamodb.us-east-1.amazonaws.com", "Authorization": auth,
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{operation}"})
        headers = sorted((k.lower(), v) for k, v in response.headers.items()
                         if k.lower() not in ("x-amzn-requestid", "x-amz-request-id", "date", "x-amz-id-2"))
        return [operation, response.status_code, headers, response.get_data().decode()]

    call("CreateTable", {
        "TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in
                                 (("pk", "S"), ("sk", "S"), ("gsi_pk", "S"), ("gsi_sk", "N"))],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{"IndexName": "by_gsi", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
            {"AttributeName": "gsi_pk", "KeyType": "HASH"}, {"AttributeName": "gsi_sk", "KeyType": "RANGE"}]}],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}})
    return [call(operation, body) for operation, body in _calls()]


def _answers(mode: str) -> Any:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run([sys.executable, __file__, mode], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_sped_up_moto_answers_byte_for_byte_as_moto():
    plain, fast, direct = _answers("plain"), _answers("fast"), _answers("direct")
    assert len(plain) == len(_calls())
    statuses = {status for _, status, _, _ in plain}
    assert 400 in statuses and 200 in statuses   # refusals are compared too
    assert any('"Items"' in body and body.count('"sk"') > 50 for _, _, _, body in plain)   # a query of many items
    for before, after, straight in zip(plain, fast, direct):
        assert before == after
        assert before == straight   # the embedded AWS's DynamoDB path without Flask (dynamodb_direct)




def _replay_queues(mode: str) -> list[list]:
    """In this process, with moto's random ids seeded: SQS and EventBridge JSON calls (sends,
    batches, receives, a delete, attributes, refusals, a rule delivering events to a queue) through
    moto's server app sped up ("fast") or also with these calls handed straight to moto's handlers
    ("direct"); every answer, timestamps and the MD5s of bodies that carry one masked."""
    import re

    from moto.moto_api._internal import mock_random
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.test import Client

    from local.embedded_aws import dynamodb_direct, speed_up_moto

    speed_up_moto()
    app = DomainDispatcherApplication(create_backend_app)
    if mode == "direct":
        app = dynamodb_direct(app)
    client = Client(app)
    mock_random.seed(7)
    answers: list[list] = []

    def call(service: str, target: str, body: dict) -> dict:
        auth = (f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
                "SignedHeaders=host;x-amz-target, Signature=0")
        response = client.post("/", data=json.dumps(body), headers={
            "Host": "127.0.0.1:4566", "Authorization": auth, "Content-Type": "application/x-amz-json-1.0"
            if service == "sqs" else "application/x-amz-json-1.1", "X-Amz-Target": target})
        headers = sorted((k.lower(), v) for k, v in response.headers.items()
                         if k.lower() not in ("x-amzn-requestid", "x-amz-request-id", "date", "x-amz-id-2"))
        text = response.get_data().decode()
        masked = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?", "<time>", text)
        masked = re.sub(r"\b1\d{9}(\.\d+|\d{3})?\b", "<epoch>", masked)
        if "<time>" in masked or "<epoch>" in masked:
            masked = re.sub(r"\b[0-9a-f]{32}\b", "<md5>", masked)
        answers.append([target, response.status_code, headers, masked])
        return json.loads(text) if text.startswith("{") else {}

    url = call("sqs", "AmazonSQS.CreateQueue", {"QueueName": "plain"})["QueueUrl"]
    events_url = call("sqs", "AmazonSQS.CreateQueue", {"QueueName": "events"})["QueueUrl"]
    for body in ("a", "b", "商品"):
        call("sqs", "AmazonSQS.SendMessage", {"QueueUrl": url, "MessageBody": body,
                                              "MessageAttributes": {"k": {"DataType": "String", "StringValue": body}}})
    call("sqs", "AmazonSQS.SendMessageBatch", {"QueueUrl": url, "Entries": [
        {"Id": str(n), "MessageBody": f"batch {n}"} for n in range(3)]})
    got = call("sqs", "AmazonSQS.ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10,
                                                   "MessageAttributeNames": ["All"], "VisibilityTimeout": 30})
    call("sqs", "AmazonSQS.DeleteMessage", {"QueueUrl": url, "ReceiptHandle": got["Messages"][0]["ReceiptHandle"]})
    call("sqs", "AmazonSQS.DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "not-a-handle"})
    call("sqs", "AmazonSQS.GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["ApproximateNumberOfMessages",
                                                                                     "ApproximateNumberOfMessagesNotVisible"]})
    call("sqs", "AmazonSQS.ReceiveMessage", {"QueueUrl": url + "-missing"})
    call("sqs", "AmazonSQS.ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 11})
    queue_arn = call("sqs", "AmazonSQS.GetQueueAttributes", {"QueueUrl": events_url,
                                                             "AttributeNames": ["QueueArn"]})["Attributes"]["QueueArn"]
    call("events", "AWSEvents.PutRule", {"Name": "orders", "EventPattern": json.dumps({"source": ["shop"]})})
    call("events", "AWSEvents.PutTargets", {"Rule": "orders", "Targets": [{"Id": "q", "Arn": queue_arn}]})
    call("events", "AWSEvents.PutEvents", {"Entries": [
        {"Source": "shop", "DetailType": "OrderPlaced", "Detail": json.dumps({"order": n})} for n in range(2)]
        + [{"Source": "other", "DetailType": "X", "Detail": "{}"}]})
    call("events", "AWSEvents.PutEvents", {"Entries": []})
    call("events", "AWSEvents.ListRules", {})
    call("sqs", "AmazonSQS.ReceiveMessage", {"QueueUrl": events_url, "MaxNumberOfMessages": 10})
    return answers


def test_sqs_and_eventbridge_straight_to_moto_answer_as_moto():
    fast, direct = _answers("queues-fast"), _answers("queues-direct")
    statuses = {status for _, status, _, _ in fast}
    assert 400 in statuses and 200 in statuses   # refusals are compared too
    assert '"Messages"' in fast[-1][3] and "OrderPlaced" in fast[-1][3]   # the rule delivered the events
    assert len(fast) == len(direct)
    for before, after in zip(fast, direct):
        assert before == after


def _sqs_facts() -> dict:
    """In this process, optionally sped up: what SendMessage does to standard and FIFO queues
    (content-based deduplication on and off) and every queue attribute moto lists afterwards."""
    import boto3
    from moto import mock_aws

    facts: dict = {}
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        queues = {"standard": sqs.create_queue(QueueName="plain")["QueueUrl"],
                  "fifo": sqs.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"],
                  "fifo_cbd": sqs.create_queue(QueueName="c.fifo", Attributes={
                      "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]}
        for name, url in queues.items():
            fifo = {"MessageGroupId": "g"} if "fifo" in name else {}
            for body in ("a", "a", "b"):
                extra = {"MessageDeduplicationId": body} if name == "fifo" else {}
                sqs.send_message(QueueUrl=url, MessageBody=body, **fifo, **extra)
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "MessageBody": f"batch {n % 2}", **fifo,
                 **({"MessageDeduplicationId": f"batch {n % 2}"} if name == "fifo" else {})} for n in range(3)])
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            for volatile in ("CreatedTimestamp", "LastModifiedTimestamp"):
                attributes.pop(volatile)
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            facts[name] = {"attributes": attributes, "bodies": sorted(m["Body"] for m in received)}
    return facts


def test_sped_up_sqs_sends_as_moto():
    plain, fast = _answers("sqs-plain"), _answers("sqs-fast")
    assert plain["standard"]["bodies"] == ["a", "a", "b", "batch 0", "batch 0", "batch 1"]
    assert plain["fifo_cbd"]["bodies"] == ["a", "b", "batch 0", "batch 1"]   # deduplicated by content
    assert plain == fast


if __name__ == "__main__":
    if sys.argv[1].startswith("queues-"):
        print(json.dumps(_replay_queues(sys.argv[1].split("-")[1])))
    elif sys.argv[1].startswith("sqs-"):
        if sys.argv[1] == "sqs-fast":
            from local.embedded_aws import speed_up_moto

            speed_up_moto()
        print(json.dumps(_sqs_facts()))
    else:
        print(json.dumps(_replay(sys.argv[1])))
