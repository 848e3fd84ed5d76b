"""Local stand-in for Amazon IVS (low-latency streaming), on loopback only.

A host pushes from OBS or ffmpeg, a viewer plays in a browser, and the
backend's unchanged boto3 ``ivs`` calls and IVS event handlers work:

* control plane (`control_plane`): the IVS REST-JSON API for boto3
  (``AWS_ENDPOINT_URL_IVS=<control URL>``), state in memory (`state`);
* ingest (`ingest`): nginx + RTMP module, ``rtmp://127.0.0.1:1935/app/<stream key>``,
  publishers authorized against the channels' stream keys;
* playback (`playback`): the channel's ``playbackUrl``
  (``http://127.0.0.1:<port>/api/video/v1/local.channel.<id>.m3u8``), HLS with
  1 s segments, private channels checked against ES384 playback tokens;
* events (`events`): "IVS Stream State Change" and "IVS Recording State Change"
  with IVS's envelope and detail, on an EventBridge bus (IVS uses the
  account's "default" bus) or any callable.

    with LocalIvs("default", rtmp_port=0) as ivs:      # start() -> {"control", "rtmp", "playback"}
        ivs_client = ivs.client()                     # or boto3 with endpoint_url=ivs.urls["control"]
        created = ivs_client.create_channel(name="room-1")
        # ffmpeg ... -f flv {ivs.urls["rtmp"]}{created["streamKey"]["value"]}

Run alone: ``python -m local.ivs [--rtmp-port 1935] [--bus NAME]``.
"""
from local.ivs.ingest import IngestUnavailable
from local.ivs.service import LocalIvs

__all__ = ["IngestUnavailable", "LocalIvs"]
