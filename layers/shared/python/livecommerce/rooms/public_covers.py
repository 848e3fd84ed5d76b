"""Public rooms' uploaded covers on the CDN.

An uploaded cover lives in the private materials bucket (rooms.covers). For a public room it is also
copied, once, to the public-covers bucket (S3-managed keys, no public access) under
covers/<room_id>/<upload_id>, which the web distribution serves at /covers/* through origin access
control (cdk/stacks/web_stack.py; locally local/public_covers.py under the API's origin). The copy
carries the image type and a year's immutable Cache-Control: the key is new for every upload, so the
room view's `cover` is one stable URL that browsers and the room-entry snapshot cache.

The copy is made before the room records it (`cover_public_key`): on `PUT .../cover` of a public room,
and on a `PATCH` that makes a test room public. A test room never gets a copy and keeps the presigned
link. Where no CDN is configured (PUBLIC_COVERS_BUCKET / PUBLIC_COVERS_BASE_URL unset) nothing is copied."""
from __future__ import annotations

from livecommerce.rooms import cover_rules
from livecommerce.rooms.storage import RoomItem
from livecommerce.shared import aws
from livecommerce.shared.settings import get_settings


def enabled() -> bool:
    settings = get_settings()
    return bool(settings.public_covers_bucket and settings.public_covers_base_url)


def copy_cover(private_key: str) -> str:
    """CopyObject from the materials bucket to the public-covers bucket (same key every time: a retry
    rewrites the same bytes); the public key."""
    settings = get_settings()
    public_key = cover_rules.public_cover_key(private_key)
    s3 = aws.client("s3")
    source = {"Bucket": settings.materials_bucket, "Key": private_key}
    content_type = s3.head_object(**source).get("ContentType") or "application/octet-stream"
    s3.copy_object(Bucket=settings.public_covers_bucket, Key=public_key, CopySource=source,
                   MetadataDirective="REPLACE", ContentType=content_type,
                   CacheControl=cover_rules.PUBLIC_CACHE_CONTROL,
                   # S3-managed keys: CloudFront's origin access control reads it without a KMS key policy
                   ServerSideEncryption="AES256")
    return public_key


def publish_if_public(item: RoomItem) -> None:
    """A public room with an uploaded cover not yet copied: copy it and note the copy on the item
    (the caller saves it). Anything else: nothing."""
    if not (enabled() and item.cover_key and item.visibility == "public"):
        return
    public_key = cover_rules.public_cover_key(item.cover_key)
    if item.cover_public_key != public_key:
        item.cover_public_key = copy_cover(item.cover_key)
