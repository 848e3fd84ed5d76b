"""Media context: IVS channels, stream keys and private playback tokens.

Video never passes through our code. Hosts push RTMPS straight to an IVS
channel and viewers pull HLS (through CloudFront on our own domain); this
package only provisions channels and stream keys (`channels`), signs the
short-lived playback tokens private channels require (`playback`) and maps
IVS failures onto problem details with stable codes (`errors`).

Sub-modules are imported explicitly (``from livecommerce.media import
channels``) so that importing this package costs nothing at cold start;
boto3, cryptography and PyJWT are imported inside the functions that use them.
"""
