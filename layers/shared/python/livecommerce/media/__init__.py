"""Media context: IVS channels, stream keys and private playback tokens.

Video never passes through our code. Hosts push RTMPS straight to an IVS
channel and viewers pull HLS (through CloudFront on our own domain); this
package only provisions channels and stream keys (`channels`), signs the
short-lived playback tokens private channels require (`playback`) and maps
IVS failures onto problem details with stable codes (`errors`).

The public face below is what other contexts call (rooms provisions channels,
hands out stream keys and signs playback through it). Importing it stays cheap
at cold start: boto3, cryptography and PyJWT are imported inside the functions
that use them.
"""
from __future__ import annotations

from livecommerce.media.channels import (Channel, Provisioned, StreamKey, create_room_channel, get_stream_key,
                                         ingest_url, rotate_stream_key, stop_stream)
from livecommerce.media.errors import MediaError
from livecommerce.media.playback import (custom_domain_playback_url, generate_key_pair, load_playback_private_key,
                                         playback_url_with_token, sign_playback_token)

__all__ = ["Channel", "MediaError", "Provisioned", "StreamKey", "create_room_channel", "custom_domain_playback_url",
           "generate_key_pair", "get_stream_key", "ingest_url", "load_playback_private_key",
           "playback_url_with_token", "rotate_stream_key", "sign_playback_token", "stop_stream"]
