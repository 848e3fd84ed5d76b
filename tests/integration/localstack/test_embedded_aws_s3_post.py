"""S3 presigned POST uploads through the local stack's embedded AWS (local.embedded_aws in its own
process, behind local.aws_server): the object holds exactly the posted bytes, and HeadObject
reports their size (a HEAD answer carries the object's Content-Length, not the empty body's: the
rooms cover check reads that size and refused every local upload as "empty"). A chunked POST
(no Content-Length) is refused 411 as S3 refuses it, and the connection stays usable."""
from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import boto3
import pytest
import requests

pytestmark = pytest.mark.integration
BUCKET = "embedded-post-test"
PAYLOAD = os.urandom(3 * 1024 + 17)


@pytest.fixture(scope="module")
def server():
    from local.embedded_aws import EmbeddedAwsProcess

    server = EmbeddedAwsProcess("127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3(server):
    client = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    client.create_bucket(Bucket=BUCKET)
    return client


def _post_for(s3, key: str) -> dict:
    return s3.generate_presigned_post(BUCKET, key, Fields={"Content-Type": "image/png"},
                                      Conditions=[{"Content-Type": "image/png"},
                                                  ["content-length-range", 1, 5 * 1024 * 1024]])


def test_a_multipart_post_stores_the_file_and_head_reports_its_size(s3):
    post = _post_for(s3, "rooms/r1/covers/u1")
    answer = requests.post(post["url"], data=post["fields"],
                           files={"file": ("cover.png", PAYLOAD, "image/png")}, timeout=10)
    assert answer.status_code == 204, answer.text

    assert s3.get_object(Bucket=BUCKET, Key="rooms/r1/covers/u1")["Body"].read() == PAYLOAD
    head = s3.head_object(Bucket=BUCKET, Key="rooms/r1/covers/u1")
    assert head["ContentLength"] == len(PAYLOAD)
    assert head["ContentType"] == "image/png"
    ranged = s3.get_object(Bucket=BUCKET, Key="rooms/r1/covers/u1", Range="bytes=0-15")
    assert ranged["Body"].read() == PAYLOAD[:16]


def test_a_head_answer_has_no_body_and_the_connection_goes_on(server, s3):
    s3.put_object(Bucket=BUCKET, Key="plain", Body=PAYLOAD)
    with requests.Session() as session:   # one kept-alive connection for both requests
        signed = {method: s3.generate_presigned_url(method, Params={"Bucket": BUCKET, "Key": "plain"})
                  for method in ("head_object", "get_object")}
        head = session.head(signed["head_object"], timeout=10)
        assert head.status_code == 200
        assert int(head.headers["Content-Length"]) == len(PAYLOAD)
        assert session.get(signed["get_object"], timeout=10).content == PAYLOAD


def test_a_chunked_post_is_refused_411_and_the_connection_stays_usable(server, s3):
    post = _post_for(s3, "rooms/r1/covers/u2")
    prepared = requests.Request("POST", post["url"], data=post["fields"],
                                files={"file": ("cover.png", PAYLOAD, "image/png")}).prepare()
    body = prepared.body
    split = urlsplit(post["url"])
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000])
                      for i in range(0, len(body), 1000)) + b"0\r\n\r\n"
    head = (f"POST {split.path or '/'} HTTP/1.1\r\nHost: {split.netloc}\r\n"
            f"Content-Type: {prepared.headers['Content-Type']}\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    s3.put_object(Bucket=BUCKET, Key="after", Body=b"after the chunked post")
    signed = urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "after"}))
    follow = f"GET {signed.path}?{signed.query} HTTP/1.1\r\nHost: {split.netloc}\r\n\r\n".encode()
    with socket.create_connection((split.hostname, split.port), timeout=10) as sock:
        sock.sendall(head + chunks + follow)
        reader = sock.makefile("rb")
        answers = []
        for _ in range(2):
            status = reader.readline().split(b" ")[1]
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            answers.append((int(status), reader.read(length)))
    assert answers[0][0] == 411
    assert answers[1] == (200, b"after the chunked post")
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=BUCKET, Key="rooms/r1/covers/u2")
