"""Room cover images: which files are a cover, pure (no I/O), property-tested.

A cover is uploaded by the host's browser straight to S3 with a presigned POST whose policy holds
the exact key, the content type and the size range (covers.request_upload); it becomes the room's
cover only when `PUT /v1/rooms/{room_id}/cover` finds the object and its first bytes say it is the
image its type claims (covers.set_cover)."""
from __future__ import annotations

MB = 1024 * 1024
MAX_COVER_BYTES = 5 * MB
COVER_TYPES = ("image/jpeg", "image/png", "image/webp")
UPLOAD_SECONDS = 15 * 60
# A cover stays private like the materials bucket it lives in; the room view carries a presigned
# link to it of this lifetime, made anew each time the room is read.
VIEW_SECONDS = 60 * 60
SNIFF_BYTES = 16

TYPE_RULE = ("content_type: image/jpeg, image/png or image/webp (422 `cover_type_not_accepted`); size_bytes: "
             f"at most {MAX_COVER_BYTES // MB} MB (422 `cover_too_large`).")


# A public room's cover copied to the public-covers location (rooms.public_covers): one key per upload,
# never rewritten, so CDNs and browsers keep it for a year.
PUBLIC_CACHE_CONTROL = "public, max-age=31536000, immutable"
PUBLIC_PREFIX = "covers/"


def public_cover_key(private_key: str) -> str:
    """The public copy's key of an uploaded cover: rooms/<room>/covers/<upload> -> covers/<room>/<upload>."""
    parts = private_key.split("/")
    if len(parts) != 4 or parts[0] != "rooms" or parts[2] != "covers" or not parts[1] or not parts[3]:
        raise ValueError(f"not a cover key: {private_key!r}")
    return f"{PUBLIC_PREFIX}{parts[1]}/{parts[3]}"


def served_publicly(visibility: str, public_key: str | None, base_url: str | None) -> bool:
    """Whether the room view links the CDN copy: only a public room, only once its copy exists, only where a
    CDN is configured. A test room (or one made test again) keeps the private presigned link."""
    return visibility == "public" and bool(public_key) and bool(base_url)


def cover_key(room_id: str, upload_id: str) -> str:
    """The one key an upload may write (the presigned POST's policy names it exactly)."""
    return f"rooms/{room_id}/covers/{upload_id}"


def type_problem(content_type: str) -> str | None:
    """None when the type is a cover type, else the plain reason."""
    if content_type.lower() in COVER_TYPES:
        return None
    return f"A cover must be a JPEG, PNG or WebP image, not {content_type or 'an unknown type'}."


def size_problem(size_bytes: int) -> str | None:
    if size_bytes < 1:
        return "The cover file is empty."
    if size_bytes > MAX_COVER_BYTES:
        return f"A cover may be at most {MAX_COVER_BYTES // MB} MB; this file is {size_bytes / MB:.1f} MB."
    return None


def sniff(head: bytes) -> str | None:
    """The image type the first bytes of a file say, or None when they are none of the cover types."""
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def content_problem(declared_type: str, size_bytes: int, head: bytes) -> str | None:
    """Why an uploaded object may not be the cover, or None: its stored type and size must be a
    cover's, and its bytes must be the image its type claims."""
    problem = type_problem(declared_type) or size_problem(size_bytes)
    if problem:
        return problem
    found = sniff(head)
    if found != declared_type.lower():
        return (f"The file says it is {declared_type} but its content is "
                f"{found or 'not a JPEG, PNG or WebP image'}.")
    return None
