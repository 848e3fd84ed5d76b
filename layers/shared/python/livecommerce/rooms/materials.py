"""Host materials (scripts, images, videos, slides): uploaded straight to S3
with a presigned POST whose policy enforces the type and size, listed with
short-lived download links."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from livecommerce.rooms import repository
from livecommerce.rooms.models import Material, MaterialList, MaterialRequest, MaterialUpload
from livecommerce.rooms.storage import MaterialItem
from livecommerce.shared import aws, problems
from livecommerce.shared.clock import iso, now_iso
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.settings import get_settings

MB = 1024 * 1024
UPLOAD_SECONDS = 15 * 60
DOWNLOAD_SECONDS = 15 * 60
MAX_MATERIALS_PER_ROOM = 200

# content type -> (kind, max bytes)
ALLOWED: dict[str, tuple[str, int]] = {
    "text/plain": ("script", 2 * MB),
    "text/markdown": ("script", 2 * MB),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("script", 20 * MB),
    "image/jpeg": ("image", 10 * MB),
    "image/png": ("image", 10 * MB),
    "image/webp": ("image", 10 * MB),
    "video/mp4": ("video", 500 * MB),
    "video/quicktime": ("video", 500 * MB),
    "application/pdf": ("slides", 50 * MB),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("slides", 50 * MB),
}


def classify(content_type: str, size_bytes: int) -> str:
    """The kind of material, or a 422 naming what is allowed."""
    rule = ALLOWED.get(content_type.lower())
    if rule is None:
        raise problems.ValidationFailed(
            f"content_type: {content_type} is not accepted.", allowed=sorted(ALLOWED),
            errors=[{"field": "body.content_type", "message": "type not accepted", "type": "value_error"}])
    kind, limit = rule
    if size_bytes > limit:
        raise problems.ValidationFailed(
            f"size_bytes: a {kind} may be at most {limit // MB} MB.", max_bytes=limit,
            errors=[{"field": "body.size_bytes", "message": f"at most {limit} bytes", "type": "value_error"}])
    return kind


def _view(item: MaterialItem, *, with_link: bool) -> Material:
    link = None
    if with_link:
        link = aws.client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": get_settings().materials_bucket, "Key": item.s3_key},
            ExpiresIn=DOWNLOAD_SECONDS)
    return Material(id=item.material_id, kind=item.kind, filename=item.filename, content_type=item.content_type,
                    size_bytes=int(item.size_bytes), created_at=item.created_at, download_url=link)


def request_upload(room_id: str, uploader: str, body: MaterialRequest) -> MaterialUpload:
    kind = classify(body.content_type, body.size_bytes)
    if len(repository.materials(room_id)) >= MAX_MATERIALS_PER_ROOM:
        raise problems.Conflict(f"A room holds at most {MAX_MATERIALS_PER_ROOM} materials.",
                                code="too_many_materials")
    material_id = new_ulid()
    key = f"rooms/{room_id}/materials/{material_id}"
    content_type = body.content_type.lower()
    item = MaterialItem(*MaterialItem.key(room_id, material_id), material_id=material_id, room_id=room_id,
                        kind=kind, filename=body.filename, content_type=content_type, size_bytes=body.size_bytes,
                        s3_key=key, uploaded_by=uploader, created_at=now_iso())
    # S3 enforces the policy: exactly this key, this type, and at most the declared size.
    post = aws.client("s3").generate_presigned_post(
        Bucket=get_settings().materials_bucket, Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, body.size_bytes]],
        ExpiresIn=UPLOAD_SECONDS)
    repository.put_material(item)
    expires = datetime.now(timezone.utc) + timedelta(seconds=UPLOAD_SECONDS)
    return MaterialUpload(material=_view(item, with_link=False), upload_url=post["url"],
                          upload_fields=post["fields"], expires_at=iso(expires))


def list_materials(room_id: str) -> MaterialList:
    """Materials whose upload finished (the object exists), newest first."""
    s3 = aws.client("s3")
    bucket = get_settings().materials_bucket
    present = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"rooms/{room_id}/materials/")
               .get("Contents", [])}
    items = [i for i in repository.materials(room_id) if i.s3_key in present]
    items.sort(key=lambda i: i.material_id, reverse=True)
    return MaterialList(items=[_view(i, with_link=True) for i in items])
