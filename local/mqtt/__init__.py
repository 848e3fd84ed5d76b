"""Local stand-in for AWS IoT Core's MQTT side: an MQTT broker with a
WebSocket listener on loopback that authorizes connections with the same
custom authorizer function and enforces the same IoT policy documents, plus
the iot-data Publish REST endpoint our functions publish through; and the
DynamoDB-stream-to-Lambda pump that feeds the realtime batcher.

    broker = LocalBroker(ws_port=0, http_port=0)
    urls = broker.start()            # {"ws": "ws://127.0.0.1:PORT/mqtt", "publish": "http://127.0.0.1:PORT"}
    os.environ["AWS_ENDPOINT_URL_IOT_DATA_PLANE"] = urls["publish"]
    ...
    broker.stop()
"""
from local.mqtt.broker import LocalBroker
from local.mqtt.streams import StreamPump

__all__ = ["LocalBroker", "StreamPump"]
