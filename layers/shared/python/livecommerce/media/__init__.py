"""Media context: IVS channels, stream keys and private playback tokens.

Video never passes through our code. Hosts push RTMPS straight to an IVS
channel and viewers pull HLS (through CloudFront on our own domain); this
package only provisions channels and stream keys (`channels`), signs the
short-lived playback tokens private channels require (`playback`) and maps
IVS failures onto problem details with stable codes (`errors`). It also owns
co-streaming (连麦) and PK on IVS real-time stages (`stages`, `service`,
`costream_rules`; docs/costreaming.md).

The public face below is what other contexts call (rooms provisions channels,
hands out stream keys and signs playback through it). Importing it stays cheap
at cold start: boto3, cryptography and PyJWT are imported inside the functions
that use them.
"""
from __future__ import annotations

from livecommerce.media.channels import (Channel, Provisioned, StreamKey, create_room_channel, get_stream_key,
                                         ingest_url, rotate_stream_key, stop_stream)
from livecommerce.media.errors import MediaError
from livecommerce.media.playback import (PlaybackTokenInvalid, custom_domain_playback_url, generate_key_pair,
                                         load_playback_key_pair, load_playback_private_key, playback_url_with_token,
                                         sign_playback_token, verify_playback_token)


def playback_token_valid(token: str, channel_arn: str) -> bool:
    """Whether `token` is a playback token this stage signed for `channel_arn`, valid now (as IVS
    checks it). The beacon authorizer uses it to mark a viewer's beacons as carrying a token."""
    try:
        verify_playback_token(token, load_playback_key_pair().public_key_pem, channel_arn=channel_arn)
    except PlaybackTokenInvalid:
        return False
    return True




def stage_of(room_id: str) -> dict | None:
    """The room's co-stream at a glance (analytics, snapshots): layout, guests on stage, PK id; None without a stage."""
    from livecommerce.media import repository  # deferred: pynamodb, not paid at face import

    item = repository.get_stage(room_id)
    if item is None:
        return None
    return {"layout": item.layout, "on_stage": int(item.on_stage or 0), "pk_id": item.pk_id}


__all__ = ["stage_of", "Channel", "MediaError", "Provisioned", "StreamKey", "create_room_channel", "custom_domain_playback_url",
           "generate_key_pair", "get_stream_key", "ingest_url", "load_playback_private_key",
           "playback_token_valid", "playback_url_with_token", "rotate_stream_key", "sign_playback_token", "stop_stream"]
