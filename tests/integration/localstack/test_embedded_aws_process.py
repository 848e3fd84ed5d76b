"""The local stack's embedded AWS in its own process (local.embedded_aws): a cancelled
transaction leaves every item and the table's stream exactly as they were (moto's whole-table
backup is replaced by an undo of the named items), and with a state folder every answered
write survives a kill -9 of the process."""
from __future__ import annotations

import boto3
import pytest

pytestmark = pytest.mark.integration
TABLE = "embedded-process-test"


@pytest.fixture
def started(tmp_path):
    from local.embedded_aws import EmbeddedAwsProcess

    servers = []

    def start():
        server = EmbeddedAwsProcess("127.0.0.1", 0, state_dir=tmp_path / "state")
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server._proc is not None and server._proc.poll() is None:
            server._proc.kill()
            server._proc.wait()


def _client(server, service: str):
    return boto3.client(service, endpoint_url=server.url, region_name="ap-northeast-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def _stream_records(server, table_arn_stream: str) -> int:
    streams = _client(server, "dynamodbstreams")
    shards = streams.describe_stream(StreamArn=table_arn_stream)["StreamDescription"]["Shards"]
    total = 0
    for shard in shards:
        it = streams.get_shard_iterator(StreamArn=table_arn_stream, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        total += len(streams.get_records(ShardIterator=it)["Records"])
    return total


def test_a_cancelled_transaction_changes_nothing_and_answered_writes_survive_kill_9(started):
    server = started()
    ddb = _client(server, "dynamodb")
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    stream = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "stock"}, "sk": {"S": "p1"}, "left": {"N": "5"}})
    before = _stream_records(server, stream)

    cancelled = {"TransactItems": [
        {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "stock"}, "sk": {"S": "p1"}},
                    "UpdateExpression": "SET #l = #l - :one", "ExpressionAttributeNames": {"#l": "left"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "order"}, "sk": {"S": "o1"}}}},
        {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "stock"}, "sk": {"S": "p2"}},
                    "ConditionExpression": "attribute_exists(pk)"}},   # fails: no such item
    ]}
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(**cancelled)
    stock = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "stock"}, "sk": {"S": "p1"}})["Item"]
    assert stock["left"] == {"N": "5"}
    assert "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "order"}, "sk": {"S": "o1"}})
    assert ddb.scan(TableName=TABLE)["Count"] == 1
    assert _stream_records(server, stream) == before

    ddb.transact_write_items(TransactItems=cancelled["TransactItems"][:2])   # the same, without the failing part
    assert ddb.get_item(TableName=TABLE, Key={"pk": {"S": "stock"}, "sk": {"S": "p1"}})["Item"]["left"] == {"N": "4"}
    assert _stream_records(server, stream) == before + 2

    server._proc.kill()   # kill -9: no snapshot on the way out
    server._proc.wait()
    again = started()
    assert "replayed=" in again.state_line
    ddb = _client(again, "dynamodb")
    assert ddb.get_item(TableName=TABLE, Key={"pk": {"S": "stock"}, "sk": {"S": "p1"}})["Item"]["left"] == {"N": "4"}
    assert "Item" in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "order"}, "sk": {"S": "o1"}})
    assert ddb.scan(TableName=TABLE)["Count"] == 2
