"""AWS Signature Version 4 on the local stand-ins of AWS endpoints.

AWS refuses a request to one of its APIs unless it is signed (SigV4) with the
caller's credentials; a stand-in that answers unsigned requests lets anyone on
the machine call it, and hides a client that forgot to sign. `verify` checks a
request the way AWS does, against the credentials the local stack runs with:

- an `Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request,
  SignedHeaders=..., Signature=...` header (presigned query strings are not accepted here);
- the access key is the local one, the credential scope names the service's signing
  name (botocore's `signingName`, e.g. `iotdata` for iot-data), the region (when one is
  configured), a date equal to the X-Amz-Date's, and `aws4_request`;
- `host` and `x-amz-date` are among the signed headers, and X-Amz-Date is within 15
  minutes of now (AWS's "Signature expired" / "not yet current");
- the session token, if the credentials have one, is the one sent (X-Amz-Security-Token);
- an `X-Amz-Content-SHA256` header, if sent, is the SHA-256 of the body actually received
  (otherwise a signed header could vouch for another body);
- the signature is recomputed with botocore's own `SigV4Auth` over the request as
  received (method, path and query as sent, the signed headers only, the body's hash) and
  compared in constant time.

A failure raises `SignatureRejected` carrying the message AWS gives for it; the
stand-in answers it with its service's 403 error shape.

`sign` is the other side, for callers that do not go through boto3 (benchmarks, tests).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Mapping

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=15)
MISSING_TOKEN = "Missing Authentication Token"
SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. "
                      "Consult the service documentation for details.")
INVALID_TOKEN = "The security token included in the request is invalid."


class SignatureRejected(Exception):
    """The request is not signed, or not signed by the local credentials."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LocalCredentials:
    access_key: str
    secret_key: str
    token: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "LocalCredentials | None":
        """The credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), as the
        local stack sets them for itself and every function; None when they are not set."""
        env = os.environ if environ is None else environ
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            return None
        return cls(key, secret, env.get("AWS_SESSION_TOKEN") or None)

    def environment(self) -> dict[str, str]:
        """These credentials as the environment variables boto3 and from_environment read."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        if self.token:
            env["AWS_SESSION_TOKEN"] = self.token
        return env

    def botocore(self) -> Credentials:
        return Credentials(self.access_key, self.secret_key, self.token)


class _ReceivedRequestSigner(SigV4Auth):
    """botocore's SigV4 over exactly the headers the client said it signed, with their values
    as received (botocore's own choice would add or drop headers: a proxy's, the user agent)."""

    def __init__(self, credentials: Credentials, service: str, region: str, signed: list[str]) -> None:
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        chosen = HTTPHeaders()
        for name in self._signed:
            chosen[name] = request.headers[name]
        return chosen


def _parse_authorization(value: str) -> tuple[str, list[str], str]:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureRejected(f"Authorization header requires the {ALGORITHM} algorithm, "
                                f"not '{algorithm[:40]}'.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, item = part.strip().partition("=")
        if sep:
            fields[key.strip()] = item.strip()
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        raise SignatureRejected(f"Authorization header requires '{missing[0]}' parameter. "
                                f"Authorization={value[:40]}")
    signed = fields["SignedHeaders"].split(";")
    if any(not name or name != name.lower() for name in signed) or signed != sorted(signed):
        raise SignatureRejected("SignedHeaders must be lower-case names, sorted, separated by ';'.")
    return fields["Credential"], signed, fields["Signature"]


def verify(method: str, target: str, headers: Mapping[str, str], body: bytes, *, service: str,
           credentials: LocalCredentials | None, region: str | None = None,
           now: dt.datetime | None = None) -> None:
    """Raise SignatureRejected unless the request is SigV4-signed with `credentials`.

    `target`: the path and query exactly as sent; `headers`: lower-case names."""
    authorization = headers.get("authorization")
    if not authorization:
        raise SignatureRejected(MISSING_TOKEN)
    if credentials is None:  # nothing to check against: refuse, never accept
        raise SignatureRejected(INVALID_TOKEN)
    credential, signed, signature = _parse_authorization(authorization)
    parts = credential.split("/")
    if len(parts) != 5:
        raise SignatureRejected(f"Credential should have 5 parts: {credential}")
    access_key, date, scope_region, scope_service, terminator = parts
    if not hmac.compare_digest(access_key.encode(), credentials.access_key.encode()):
        raise SignatureRejected(INVALID_TOKEN)
    if terminator != "aws4_request":
        raise SignatureRejected(f"Credential should be scoped with a valid terminator: 'aws4_request', "
                                f"not '{terminator}'.")
    if scope_service != service:
        raise SignatureRejected(f"Credential should be scoped to correct service: '{service}'.")
    if region is not None and scope_region != region:
        raise SignatureRejected(f"Credential should be scoped to a valid region, not '{scope_region}'.")
    for required in ("host", "x-amz-date"):
        if required not in signed:
            raise SignatureRejected(f"'{required}' must be a signed header.")
    if any(name not in headers for name in signed):
        raise SignatureRejected(SIGNATURE_MISMATCH)
    amz_date = headers["x-amz-date"]
    try:
        sent = dt.datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise SignatureRejected(f"X-Amz-Date must be in ISO 8601 basic format, not '{amz_date}'.") from None
    if date != amz_date[:8]:
        raise SignatureRejected(f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                                f"date from HTTP: '{date}' != '{amz_date[:8]}', from '{amz_date}'.")
    current = now or dt.datetime.now(dt.timezone.utc)
    stamp = "%Y%m%dT%H%M%SZ"
    if sent < current - MAX_SKEW:
        raise SignatureRejected(f"Signature expired: {amz_date} is now earlier than "
                                f"{(current - MAX_SKEW).strftime(stamp)} ({current.strftime(stamp)} - 15 min.)")
    if sent > current + MAX_SKEW:
        raise SignatureRejected(f"Signature not yet current: {amz_date} is still later than "
                                f"{(current + MAX_SKEW).strftime(stamp)} ({current.strftime(stamp)} + 15 min.)")
    token = headers.get("x-amz-security-token")
    if (token or credentials.token) and not (
            token and credentials.token and "x-amz-security-token" in signed
            and hmac.compare_digest(token.encode(), credentials.token.encode())):
        raise SignatureRejected(INVALID_TOKEN)
    content_sha256 = headers.get("x-amz-content-sha256")
    if content_sha256 is not None and not hmac.compare_digest(
            content_sha256.encode(), hashlib.sha256(body).hexdigest().encode()):
        raise SignatureRejected("The provided 'x-amz-content-sha256' header does not match what was computed.")

    # The request as received, rebuilt for botocore (http: the payload hash is always computed).
    request = AWSRequest(method=method.upper(), url=f"http://{headers['host']}{target}", data=body,
                         headers={name: headers[name] for name in signed})
    request.context["timestamp"] = amz_date
    signer = _ReceivedRequestSigner(credentials.botocore(), scope_service, scope_region, signed)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureRejected(SIGNATURE_MISMATCH)


def sign(method: str, url: str, body: bytes, *, service: str, region: str, credentials: LocalCredentials,
         headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers of `method url` signed as boto3 signs them (Authorization, X-Amz-Date, ...)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(credentials.botocore(), service, region).add_auth(request)
    return dict(request.headers.items())
