"""Room cover images uploaded from the host's browser.

`request_upload` answers a presigned S3 POST whose policy holds the exact key, the image type and
the size range (at most cover_rules.MAX_COVER_BYTES), under the rooms function's prefix of the
private materials bucket (rooms/<room_id>/covers/<upload_id>). `set_cover` makes a finished upload
the room's cover after checking the object itself: HeadObject for its stored size and type, a
16-byte ranged GetObject for its magic bytes. The room view then shows a presigned link to it
(service._cover_url), so a test room's cover is exactly as private as the room; a public room's
cover is copied to the public-covers location and linked by its stable CDN URL (rooms.public_covers).
A refused upload is never linked."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from botocore.exceptions import ClientError

from livecommerce.rooms import cover_rules, events, public_covers, repository, rules
from livecommerce.rooms.models import CoverUpload, CoverUploadRequest, Room, SetCoverRequest
from livecommerce.rooms.service import MAX_LOCK_RETRIES, _index_keys, _load_for_host, _room_fields, room_view
from livecommerce.shared import aws, problems
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import iso
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.settings import get_settings


def _rejected(detail: str, code: str, field: str) -> problems.ValidationFailed:
    return problems.ValidationFailed(detail, code=code, max_bytes=cover_rules.MAX_COVER_BYTES,
                                     allowed=list(cover_rules.COVER_TYPES),
                                     errors=[{"field": field, "message": detail, "type": "value_error"}])


def request_upload(caller: Caller, room_id: str, body: CoverUploadRequest) -> CoverUpload:
    item = _load_for_host(caller, room_id)
    rules.check_editable(item.status)
    problem = cover_rules.type_problem(body.content_type)
    if problem:   # the model's Literal says the same; kept for callers of the service itself
        raise _rejected(problem, "cover_type_not_accepted", "body.content_type")
    problem = cover_rules.size_problem(body.size_bytes)
    if problem:
        raise _rejected(problem, "cover_too_large", "body.size_bytes")
    upload_id = new_ulid()
    key = cover_rules.cover_key(room_id, upload_id)
    content_type = body.content_type.lower()
    # S3 enforces the policy: exactly this key, this type, and at most the declared size.
    post = aws.client("s3").generate_presigned_post(
        Bucket=get_settings().materials_bucket, Key=key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, body.size_bytes]],
        ExpiresIn=cover_rules.UPLOAD_SECONDS)
    expires = datetime.now(timezone.utc) + timedelta(seconds=cover_rules.UPLOAD_SECONDS)
    return CoverUpload(upload_id=upload_id, upload_url=post["url"], upload_fields=post["fields"],
                       max_bytes=cover_rules.MAX_COVER_BYTES, expires_at=iso(expires))


def _check_object(key: str) -> None:
    """The uploaded object is a cover (stored type, size, magic bytes), else a 422 says why; no object at all is a 409 (the upload did not finish)."""
    s3 = aws.client("s3")
    bucket = get_settings().materials_bucket
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise problems.Conflict("No file was uploaded for this upload_id (or the upload has not finished).",
                                    code="cover_not_uploaded") from exc
        raise
    content_type = head.get("ContentType") or ""
    size = int(head.get("ContentLength") or 0)
    first = b""
    if size:
        first = s3.get_object(Bucket=bucket, Key=key,
                              Range=f"bytes=0-{cover_rules.SNIFF_BYTES - 1}")["Body"].read()
    problem = cover_rules.content_problem(content_type, size, first)
    if problem:
        # The object stays where it is, private and never linked (the rooms function's grant on the
        # bucket is Get/Put under rooms/, no Delete: least privilege over tidiness).
        raise _rejected(problem, "cover_rejected", "body.upload_id")


def set_cover(caller: Caller, room_id: str, body: SetCoverRequest) -> Room:
    key = cover_rules.cover_key(room_id, body.upload_id)
    _load_for_host(caller, room_id)            # 404/403 before touching S3
    _check_object(key)
    for _ in range(MAX_LOCK_RETRIES):
        item = _load_for_host(caller, room_id, consistent=True)
        rules.check_editable(item.status)
        item.cover_key = key
        item.cover = None
        item.cover_public_key = None
        public_covers.publish_if_public(item)      # a public room's cover: copied for the CDN before it is linked
        _index_keys(item)
        version = item.version
        if repository.save_room_if_version(item, version, [events.RoomUpdated(
                **_room_fields(item), changed=["cover"], previous_scheduled_start=item.scheduled_start)]):
            repository.flush_outbox(room_id)
            return room_view(item)
    raise problems.Conflict("The room is being changed by someone else; retry.", code="concurrent_update",
                            retryable=True)
