"""Deploy-time custom resources for the IVS playback key pair (media stack).

IVS verifies private-channel playback tokens with the public half of a key pair
imported into it (AWS::IVS::PlaybackKeyPair); the rooms function signs them with
the private half, which lives in Secrets Manager as JSON
{"private_key_pem", "public_key_pem", "key_pair_arn"}. This function puts it there,
without Docker and without the private key ever appearing in a template, a
custom resource response or a log line. One function, two resource types:

Custom::PlaybackKeyMaterial  (SecretId)
    Create, Update: make sure the secret holds an EC P-384 (ES384) key pair. A
    valid pair already there is kept, so an update or a repeated create never
    regenerates it; anything else (the random placeholder CloudFormation created
    the secret with) is replaced by a new pair. Returns PublicKeyPem, which the
    AWS::IVS::PlaybackKeyPair imports.
    Delete: nothing (the secret follows its own removal policy).

Custom::PlaybackKeyPairArn  (SecretId, KeyPairArn)
    Create, Update: record the imported key pair's ARN in the secret (written
    only when it changed). Delete: nothing.

Runs on the functions' runtime with the shared layer (cryptography, and the
domain's own key generator, livecommerce.media.playback.generate_key_pair).
"""
from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

logger = logging.getLogger()
logger.setLevel(logging.INFO)

MATERIAL = "Custom::PlaybackKeyMaterial"
KEY_PAIR_ARN = "Custom::PlaybackKeyPairArn"
RESPONSE_TIMEOUT_SECONDS = 30

_secrets: Any = None


def secrets_client() -> Any:
    global _secrets
    if _secrets is None:
        import boto3

        _secrets = boto3.client("secretsmanager")
    return _secrets


# -- the key pair -------------------------------------------------------------------

def public_pem_of(private_pem: str) -> str | None:
    """The public PEM of a P-384 private key PEM; None if it is not one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    except (ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP384R1):
        return None
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def generate_pair() -> tuple[str, str]:
    from livecommerce.media.playback import generate_key_pair

    return generate_key_pair()


def read_secret(secret_id: str) -> dict[str, Any] | None:
    raw = secrets_client().get_secret_value(SecretId=secret_id).get("SecretString") or ""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def write_secret(secret_id: str, value: dict[str, Any]) -> None:
    secrets_client().put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))


def ensure_key_material(secret_id: str) -> str:
    """Keep the secret's key pair if it is a valid one, else store a new one; the public PEM."""
    current = read_secret(secret_id) or {}
    private_pem = current.get("private_key_pem")
    public_pem = public_pem_of(private_pem) if isinstance(private_pem, str) else None
    if public_pem is not None:
        if current.get("public_key_pem") != public_pem:
            write_secret(secret_id, {**current, "public_key_pem": public_pem})
        logger.info("kept the existing playback key pair")
        return public_pem
    private_pem, public_pem = generate_pair()
    write_secret(secret_id, {"private_key_pem": private_pem, "public_key_pem": public_pem, "key_pair_arn": ""})
    logger.info("stored a new playback key pair")
    return public_pem


def record_key_pair_arn(secret_id: str, key_pair_arn: str) -> None:
    current = read_secret(secret_id)
    if current is None or not current.get("private_key_pem"):
        raise RuntimeError("the secret holds no playback key pair; PlaybackKeyMaterial must run first")
    if current.get("key_pair_arn") != key_pair_arn:
        write_secret(secret_id, {**current, "key_pair_arn": key_pair_arn})
        logger.info("recorded the playback key pair ARN")


# -- custom resource protocol ---------------------------------------------------------

def on_event(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(physical resource id, response data) for one CloudFormation request."""
    resource_type = event["ResourceType"]
    request = event["RequestType"]
    props = event.get("ResourceProperties") or {}
    secret_id = props.get("SecretId")
    physical_id = event.get("PhysicalResourceId") or f"{secret_id}|{resource_type}"
    if resource_type not in (MATERIAL, KEY_PAIR_ARN):
        raise ValueError(f"unknown resource type {resource_type}")
    if request == "Delete":
        return physical_id, {}
    if not secret_id:
        raise ValueError("SecretId is required")
    if resource_type == MATERIAL:
        return physical_id, {"PublicKeyPem": ensure_key_material(secret_id)}
    key_pair_arn = props.get("KeyPairArn")
    if not key_pair_arn:
        raise ValueError("KeyPairArn is required")
    record_key_pair_arn(secret_id, key_pair_arn)
    return physical_id, {"KeyPairArn": key_pair_arn}


def send_response(event: dict[str, Any], context: Any, status: str, *, physical_id: str,
                  data: dict[str, str] | None = None, reason: str | None = None) -> None:
    body = json.dumps({
        "Status": status,
        "Reason": reason or f"see CloudWatch Logs, stream {getattr(context, 'log_stream_name', '?')}",
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data or {},
    }).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as response:  # noqa: S310 (CloudFormation's presigned URL)
        response.read()


def handler(event: dict[str, Any], context: Any) -> None:
    logger.info("%s %s %s", event.get("RequestType"), event.get("ResourceType"), event.get("LogicalResourceId"))
    try:
        physical_id, data = on_event(event)
    except Exception as exc:  # every failure must still answer CloudFormation, or the stack waits an hour
        logger.exception("custom resource failed")
        physical_id = event.get("PhysicalResourceId") or f"failed-{event.get('RequestId', '')}"
        send_response(event, context, "FAILED", physical_id=physical_id, reason=f"{type(exc).__name__}: {exc}"[:500])
        return
    send_response(event, context, "SUCCESS", physical_id=physical_id, data=data)
