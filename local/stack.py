"""`make local`: the whole system on loopback, no AWS account, no Docker.

  embedded AWS      moto server (DynamoDB, EventBridge, SQS, Secrets Manager, S3, Step Functions, Scheduler)
  workflows         statemachines/*.asl.json on moto, Lambda tasks on the real handlers, Scheduler loop
  HTTP API          the API Gateway emulation over the real handlers and authorizer
  login providers   WeChat jscode2session and Alipay OAuth stand-ins
  event delivery    bus rules -> queues -> the consumer functions' handlers

Resources come from the same specs as the CDK stacks (local.resources) and
demo data is seeded (local.seed). Ctrl-C stops everything.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT / "layers" / "shared" / "python", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

REGION = "ap-northeast-1"
SWEEP_SECONDS = 60
# Event delivery long-polls its queues (SQS WaitTimeSeconds; the embedded AWS waits outside its lock and
# answers as soon as a message arrives): asking each queue five times a second cost a quarter of a core at rest.
DELIVERY_WAIT_SECONDS = 5
EVENT_CONCURRENCY = 4       # invocations of one subscription's function at once (EventBridge: one per event)
# Functions EventBridge runs on a schedule on AWS are run here by the schedule loop: every FunctionSpec in
# the manifest with a schedule (local.schedules.scheduled_functions), never a hand list.
WECHAT_APP_ID = "wx-local-app"
# Worker processes the functions run in (local.lambda_runtime): one request at a time each.
DEFAULT_LAMBDA_WORKERS = int(os.environ.get("LOCAL_LAMBDA_WORKERS", "8"))
# Of those, kept for API invocations only (a client waits); and background-only workers besides, at a lower
# CPU priority (os.nice), for the work an API request causes later (on AWS: capacity of its own).
# local.lambda_runtime's pool serves waiting API invocations first; a background one waiting
# LOCAL_BACKGROUND_AGING_SECONDS takes the next shared worker anyway (deferred, never starved or dropped).
DEFAULT_RESERVED_WORKERS = int(os.environ.get("LOCAL_RESERVED_WORKERS", "4"))
DEFAULT_BACKGROUND_WORKERS = int(os.environ.get("LOCAL_BACKGROUND_WORKERS", "4"))
BACKGROUND_AGING_SECONDS = float(os.environ.get("LOCAL_BACKGROUND_AGING_SECONDS", "10"))
# LOCAL_API_FIRST=0: first come first served, whatever the caller (the pool before API-first; for measuring)
API_FIRST = os.environ.get("LOCAL_API_FIRST", "1") != "0"
DEFAULT_STATE_DIR = ROOT / ".local" / "state"
ALIPAY_APP_ID = "2021000000000000"


@dataclass
class LocalStack:
    api_port: int = 8000
    aws_port: int = 4566
    rtmp_port: int = 1935
    hls_port: int = 0
    mqtt_port: int = 8083
    host: str = "127.0.0.1"
    state_dir: str | None = None     # keep the embedded AWS's state here across restarts (None: memory only)
    fresh: bool = False              # forget what state_dir holds first
    lambda_workers: int = DEFAULT_LAMBDA_WORKERS
    # IVS's recording reconnect window (RecordingConfiguration recordingReconnectWindowSeconds): Recording
    # End, and so the replay, comes this long after the stream ends (None: LocalNames' 60 s)
    reconnect_window_seconds: int | None = None
    urls: dict[str, str] = field(default_factory=dict)

    def start(self) -> dict[str, str]:
        import secrets as pysecrets

        from livecommerce.shared.settings import LOCAL_STAGE
        from local.embedded_aws import EmbeddedAwsProcess
        from local.resources import LocalNames, create_all

        self._stop = threading.Event()
        # moto in its own process (its CPU off the API's GIL), durable when given a state folder
        self._moto = EmbeddedAwsProcess(self.host, self.aws_port, state_dir=self.state_dir, fresh=self.fresh)
        aws_url = self._moto.start()
        self.names = LocalNames()
        env = self.names.env()
        if self.reconnect_window_seconds is not None:
            env["RECONNECT_WINDOW_SECONDS"] = str(int(self.reconnect_window_seconds))
        env.update({
            "STAGE": LOCAL_STAGE,   # the local stack is the local stage; nothing else ever is
            "AWS_ENDPOINT_URL": aws_url, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
        })
        os.environ.update(env)
        os.environ.pop("AWS_PROFILE", None)
        # Fixed function settings from the specs (FunctionSpec.environment), as CDK sets them; the post-live
        # report waits for the local Firehose stand-in's buffer (local/firehose.py: 5 s), not AWS's 60 s.
        from livecommerce.manifest import FUNCTION_SPECS

        for spec in FUNCTION_SPECS:
            os.environ.update(dict(spec.environment))
        os.environ["REPORT_SETTLE_SECONDS"] = "5"

        from local.standins import generate_key_pair
        from local.standins.alipay_api import AlipayStandIn
        from local.standins.wechat_api import WeChatStandIn

        wechat_secret = pysecrets.token_hex(16)
        alipay_private, alipay_public = generate_key_pair()
        self.wechat = WeChatStandIn(WECHAT_APP_ID, wechat_secret, port=0)
        self.alipay = AlipayStandIn(ALIPAY_APP_ID, alipay_public, port=0)
        wechat_url = self.wechat.start()
        alipay_url = self.alipay.start()
        os.environ["WECHAT_API_BASE"] = wechat_url
        os.environ["ALIPAY_GATEWAY"] = self.alipay.gateway_url
        # drand (lottery draws' outside randomness): the stand-in's chain, with real BLS signatures; the
        # functions trust its pinned key (DRAND_PUBLIC_KEY), as they trust mainnet's on AWS.
        from local.standins.drand import DrandChain, serve as serve_drand

        self.drand = DrandChain(genesis_time=1_700_000_000)   # the same chain after a restart (state kept)
        self._drand_server, drand_url = serve_drand(self.drand, self.host)
        os.environ.update(self.drand.settings_env(drand_url))

        import boto3

        self.session = boto3.session.Session(region_name=REGION)
        create_all(self.session, self.names, provider_credentials={
            "wechat_app_id": WECHAT_APP_ID, "wechat_app_secret": wechat_secret,
            "alipay_app_id": ALIPAY_APP_ID, "alipay_app_private_key": alipay_private,
            "alipay_public_key": self.alipay.platform_public_key_pem,
        })
        self._moto.compact()   # the new resources (a KMS key's random material) come back from a snapshot

        # The analytics store: the Firehose stand-in writes Parquet under ANALYTICS_STORE (DuckDB reads it),
        # flushing every 5 s; functions reach it through Firehose's API (AWS_ENDPOINT_URL_FIREHOSE: the
        # realtime batcher's likes and danmaku), the beacon route in process, and every domain event on
        # the bus through the store rule's queue (local.event_delivery.drain_to_store), as on AWS.
        from local import beacon_integration
        from local.firehose import LocalFirehose, serve as serve_firehose

        store = os.environ.get("ANALYTICS_STORE") or str(
            Path(self.state_dir) / "analytics" if self.state_dir else ROOT / ".local" / "analytics")
        os.environ["ANALYTICS_STORE"] = store
        self.firehose = LocalFirehose(store)
        beacon_integration.use_firehose(self.firehose)
        self.firehose.start()
        self._firehose_server, os.environ["AWS_ENDPOINT_URL_FIREHOSE"] = serve_firehose(
            self.firehose, self.host, 0, prefix=self.names.prefix)

        import json

        from local.ivs import IngestUnavailable, LocalIvs

        # IVS auto-record into the recordings bucket (local.ivs.recording), whose Object Created
        # events reach the default bus like on AWS (local.resources turns its EventBridge notifications on)
        ivs_kwargs = dict(http_port=self.hls_port, region=REGION,
                          reconnect_window_seconds=int(env["RECONNECT_WINDOW_SECONDS"]),
                          record=True, recording_bucket=env["RECORDINGS_BUCKET"], thumbnail_interval_seconds=10)
        # IVS puts its events on the account's default bus, where the StreamState rule listens.
        self.ivs = LocalIvs("default", rtmp_port=self.rtmp_port, **ivs_kwargs)
        try:
            ivs_urls = self.ivs.start()
        except IngestUnavailable as exc:
            print(f"warning: {exc}; IVS API and playback only, no RTMP ingest", file=sys.stderr)
            self.ivs = LocalIvs("default", ingest=False, rtmp_port=self.rtmp_port, **ivs_kwargs)
            ivs_urls = self.ivs.start()
        os.environ["AWS_ENDPOINT_URL_IVS"] = ivs_urls["control"]
        os.environ["AWS_ENDPOINT_URL_IVS_REALTIME"] = ivs_urls["control"]   # IVS real-time stages (local.ivs.realtime)
        os.environ["RECORDING_CONFIGURATION_ARN"] = self.ivs.recording_configuration_arn
        playback_key = json.loads(self.session.client("secretsmanager").get_secret_value(
            SecretId=env["PLAYBACK_KEY_SECRET_ID"])["SecretString"])
        self.ivs.client().import_playback_key_pair(publicKeyMaterial=playback_key["public_key_pem"], name="local")

        # IoT Core stand-in: MQTT over WebSocket with the same authorizer and topic policy,
        # plus the iot-data Publish API; and the DynamoDB stream -> Lambda mappings.
        from livecommerce.interaction.spec import INTERACTION
        from local.mqtt import LocalBroker, StreamPump

        from local.lambda_runtime import invoke as invoke_function

        # IoT Core's lifecycle events go to the live-figures function, as the IoT rules send them on AWS.
        self.mqtt = LocalBroker(host=self.host, ws_port=self.mqtt_port, separate_process=True,
                                lifecycle=lambda topic, payload: invoke_function("live_stats", payload))
        mqtt_urls = self.mqtt.start()
        os.environ["AWS_ENDPOINT_URL_IOT_DATA_PLANE"] = mqtt_urls["publish"]
        os.environ["REALTIME_ENDPOINT"] = mqtt_urls["ws"]
        # Lambda's Invoke API: functions that invoke others (FunctionSpec.invokes).
        from local.lambda_api import LocalLambdaApi

        self.lambda_api = LocalLambdaApi(host=self.host, prefix=self.names.prefix)
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = self.lambda_api.start()
        # Step Functions (in the embedded AWS) runs statemachines/*.asl.json; its Lambda tasks reach
        # the real handlers through the Lambda API; Scheduler's one-time schedules fire at their time.
        from local.stepfunctions import LocalWorkflows

        self._moto.set_lambda_endpoint(os.environ["AWS_ENDPOINT_URL_LAMBDA"])
        self.workflows = LocalWorkflows(self.session, prefix=self.names.prefix, host=self.host)
        os.environ.update(self.workflows.env)
        from local import gateway

        gateway.use_clock(self.workflows.clock)   # API Gateway's request stamps move with the scheduler's clock
        # The replay distribution (CloudFront + OAC on AWS): the recordings bucket over HTTP.
        from local.replay_cdn import ReplayCdn

        self.replay_cdn = ReplayCdn(self.session, env["RECORDINGS_BUCKET"], host=self.host,
                                    secret_id=env["PLAYBACK_KEY_SECRET_ID"])   # checks replay tokens
        os.environ["REPLAY_BASE_URL"] = self.replay_cdn.start()
        scheduler_url = self.workflows.start()
        self.streams = StreamPump(self.session, {INTERACTION.logical_id: env[INTERACTION.env_var]})
        self.streams.start()

        from local.seed import seed

        seeded = seed()

        from local.http_api import LocalApiServer

        self._api = LocalApiServer(self.host, self.api_port)
        self._api.start()
        # Public rooms' covers: the web distribution's /covers/* on AWS, the API's origin here (local.public_covers)
        os.environ["PUBLIC_COVERS_BASE_URL"] = self._api.url
        from local import http_api as _covers_api
        from local.public_covers import PublicCovers

        _covers_api.public_covers = PublicCovers(self.session, env["PUBLIC_COVERS_BUCKET"])
        from local.edge_cache import EdgeCache, EdgeCacheUnavailable

        # The edge (CloudFront on AWS): nginx proxy_cache with the same policy, for the snapshot.
        self.edge: EdgeCache | None = EdgeCache(self._api.url, host=self.host)
        try:
            edge_url = self.edge.start()
        except EdgeCacheUnavailable as exc:
            logging.getLogger("local.edge").warning("no edge cache (%s): room snapshots are served by the API only", exc)
            self.edge, edge_url = None, ""
        from local.seed_commerce import start_payment_standins

        # WeChat Pay and Alipay stand-ins: they post signed notifications to this API.
        self.payments = start_payment_standins(self.session, api_url=self._api.url)
        self._delivery = [threading.Thread(target=self._run_schedules, name="schedules", daemon=True)]
        from livecommerce.manifest import SUBSCRIPTIONS
        from local.resources import delivery_queue_name

        sqs = self.session.client("sqs")
        for sub in SUBSCRIPTIONS:   # one deliverer per subscription: a busy consumer holds up no other
            url = sqs.get_queue_url(QueueName=delivery_queue_name(self.names, sub.name))["QueueUrl"]
            self._delivery.append(threading.Thread(target=self._deliver_events, args=(url, sub.function),
                                                   name=f"events-{sub.name}", daemon=True))
        from local.resources import STORE_RULE

        store_url = sqs.get_queue_url(QueueName=delivery_queue_name(self.names, STORE_RULE))["QueueUrl"]
        self._delivery.append(threading.Thread(target=self._deliver_to_store, args=(store_url,),
                                               name="events-to-store", daemon=True))
        for thread in self._delivery:
            thread.start()
        from local import lambda_runtime

        # From here on every function runs in worker processes (one request at a time each),
        # forked with one warm container of each function, once the environment is complete.
        lambda_runtime.use_worker_processes(
            self.lambda_workers, start=self.lambda_workers, reserved=min(DEFAULT_RESERVED_WORKERS, self.lambda_workers - 1),
            background=DEFAULT_BACKGROUND_WORKERS, aging_seconds=BACKGROUND_AGING_SECONDS,
            api_first=API_FIRST)
        from local import http_api

        http_api.background_probe = self.background_backlog   # GET /_local/background (benchmarks/local_load.py)
        self.urls = {
            "api": self._api.url, "docs": f"{self._api.url}/docs", "openapi": f"{self._api.url}/openapi.json",
            "aws": aws_url, "wechat_standin": wechat_url, "alipay_standin": os.environ["ALIPAY_GATEWAY"],
            "drand_standin": os.environ["DRAND_URL"],
            "ivs_api": ivs_urls["control"], "rtmp": ivs_urls["rtmp"], "hls": ivs_urls["playback"],
            "mqtt": mqtt_urls["ws"], "iot_publish": mqtt_urls["publish"], "scheduler": scheduler_url,
            "replays": os.environ["REPLAY_BASE_URL"], "edge": edge_url,
            "lambda": os.environ["AWS_ENDPOINT_URL_LAMBDA"],   # Lambda's Invoke API (an operator's direct invocation)
            **self.payments.urls,
        }
        self.seeded = seeded
        return self.urls

    def background_backlog(self) -> dict[str, object]:
        """The work waiting behind the API: the worker pool's figures per caller kind and the event
        delivery queues' messages (waiting and in flight)."""
        from livecommerce.manifest import SUBSCRIPTIONS
        from local import lambda_runtime
        from local.aws_priority import HEADER
        from local.embedded_aws import PRIORITY_PATH
        from local.resources import STORE_RULE, delivery_queue_name

        sqs = self.session.client("sqs")
        # a client (the benchmark) waits for this answer: its calls go ahead of the background work it measures
        sqs.meta.events.register("before-send", lambda request, **_: request.headers.__setitem__(HEADER, "api"))
        queues: dict[str, int] = {}
        for name in [sub.name for sub in SUBSCRIPTIONS] + [STORE_RULE]:
            url = sqs.get_queue_url(QueueName=delivery_queue_name(self.names, name))["QueueUrl"]
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            depth = int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
            if depth:
                queues[name] = depth
        import json
        import urllib.request

        with urllib.request.urlopen(self._moto.url + PRIORITY_PATH, timeout=30) as answer:
            aws_lock = json.loads(answer.read())   # the embedded AWS's lock per caller kind (local/aws_priority.py)
        return {"workers": lambda_runtime.worker_stats(), "queues": queues,
                "queued_events": sum(queues.values()), "aws_lock": aws_lock}

    def _run_schedules(self) -> None:
        from local.lambda_runtime import invoke

        from datetime import datetime, timezone

        from livecommerce.manifest import FUNCTION_SPECS
        from local.schedules import due_functions, scheduled_functions

        log = logging.getLogger("local.events")
        # Every scheduled FunctionSpec: rate(1 minute) ones on each wake (the outbox sweep, order expiry,
        # refunds, the engagement and PK clocks' fallback ticks), daily cron ones (the reconciliation) when
        # their minute comes, as EventBridge rules do.
        scheduled = scheduled_functions(FUNCTION_SPECS)
        last = datetime.now(timezone.utc)
        while not self._stop.wait(SWEEP_SECONDS):   # the scheduled functions, as on AWS
            now = datetime.now(timezone.utc)
            due = due_functions(scheduled, last, now)
            last = now
            for scheduled_name in due:
                try:
                    invoke(scheduled_name, {"id": "local-schedule", "detail-type": "Scheduled Event",
                                            "time": now.isoformat().replace("+00:00", "Z")})
                except Exception:  # keep the schedule going
                    log.exception("scheduled %s failed", scheduled_name)

    def _deliver_events(self, url: str, function: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from local.event_delivery import drain_queue_concurrently

        log = logging.getLogger("local.events")
        sqs = self.session.client("sqs")
        # EventBridge invokes the target once per event, asynchronously: events of one rule run
        # side by side (a 55 s live ticker run holds up no OrderPaid behind it)
        slots = threading.BoundedSemaphore(EVENT_CONCURRENCY)
        executor = ThreadPoolExecutor(EVENT_CONCURRENCY, thread_name_prefix=f"events-{function}")
        while not self._stop.is_set():
            try:
                drain_queue_concurrently(sqs, url, function, executor, slots, wait_seconds=DELIVERY_WAIT_SECONDS,
                                         stop=self._stop)
            except Exception:  # keep delivering; the message stays queued for a retry
                log.exception("event delivery to %s failed; will retry", function)
                self._stop.wait(1.0)
        # the invocations under way finish (stop() joins this thread, 5 s at most, before the workers go)
        deadline = time.monotonic() + 5
        for _ in range(EVENT_CONCURRENCY):
            slots.acquire(timeout=max(0.0, deadline - time.monotonic()))

    def _deliver_to_store(self, url: str) -> None:
        from local.event_delivery import drain_to_store

        log = logging.getLogger("local.events")
        sqs = self.session.client("sqs")
        while not self._stop.is_set():
            try:
                drain_to_store(sqs, url, self.firehose.put_record_batch, wait_seconds=DELIVERY_WAIT_SECONDS)
            except Exception:  # keep delivering; the messages stay queued for a retry
                log.exception("event delivery to the analytics store failed; will retry")
                self._stop.wait(1.0)

    def stop(self) -> None:
        self.ivs.stop()  # first, so the final "Stream End" still reaches the bus
        self._stop.set()
        self._moto.release_long_polls()   # the delivery threads' long polls answer now: they see the stop at once
        self._api.stop()
        if self.edge is not None:
            self.edge.stop()
        for thread in self._delivery:
            thread.join(timeout=5)
        self.wechat.stop()
        self.alipay.stop()
        self._drand_server.shutdown()
        self.payments.stop()
        self.streams.stop()
        self.workflows.stop()
        self.replay_cdn.stop()
        self.lambda_api.stop()
        self._firehose_server.shutdown()
        self.firehose.stop()   # the last buffered rows to Parquet
        self.mqtt.stop()
        from local import lambda_runtime

        lambda_runtime.stop_worker_processes()
        self._moto.stop()


def web_page_urls(api_url: str) -> dict[str, str]:
    """The web pages the stack serves under the API's origin (local.web_static, built by `make web`)."""
    return {"console": f"{api_url}/console/", "watch": f"{api_url}/watch/<room_id>", "ops": f"{api_url}/ops/"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the live-commerce backend locally.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")),
                        help="HTTP API port (0 picks a free one)")
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("AWS_PORT", "4566")),
                        help="embedded AWS (moto) port (0 picks a free one)")
    parser.add_argument("--rtmp-port", type=int, default=int(os.environ.get("RTMP_PORT", "1935")),
                        help="RTMP ingest port for OBS/ffmpeg (0 picks a free one)")
    parser.add_argument("--hls-port", type=int, default=int(os.environ.get("HLS_PORT", "0")),
                        help="HLS playback port (0 picks a free one)")
    parser.add_argument("--mqtt-port", type=int, default=int(os.environ.get("MQTT_PORT", "8083")),
                        help="MQTT-over-WebSocket port of the IoT Core stand-in (0 picks a free one)")
    parser.add_argument("--state-dir", default=os.environ.get("LOCAL_STATE_DIR") or None,
                        help=f"keep the embedded AWS's state in this folder across restarts (`make local` uses "
                             f"{DEFAULT_STATE_DIR.relative_to(ROOT)}); without it, state lives in memory only")
    parser.add_argument("--fresh", action="store_true", help="start clean: forget what --state-dir holds")
    parser.add_argument("--lambda-workers", type=int, default=DEFAULT_LAMBDA_WORKERS,
                        help="worker processes the functions run in (one request at a time each)")
    parser.add_argument("--reconnect-window", type=int,
                        default=int(os.environ["LOCAL_RECONNECT_WINDOW"]) if os.environ.get("LOCAL_RECONNECT_WINDOW")
                        else None,
                        help="IVS recording reconnect window in seconds (default 60, as CDK sets it): the replay "
                             "is made this long after the stream ends")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's per-call access log
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    stack = LocalStack(api_port=args.port, aws_port=args.aws_port, rtmp_port=args.rtmp_port, hls_port=args.hls_port,
                       mqtt_port=args.mqtt_port, state_dir=args.state_dir, fresh=args.fresh,
                       lambda_workers=args.lambda_workers, reconnect_window_seconds=args.reconnect_window)
    try:
        urls = stack.start()
    except OSError as exc:
        print(f"could not start: {exc} (is another `make local` running? try PORT=8001 AWS_PORT=0 RTMP_PORT=0 MQTT_PORT=0)",
              file=sys.stderr)
        return 1
    print("live-commerce local stack is up (loopback only)")
    for name, url in urls.items():
        print(f"  {name:<15} {url}")
    for name, url in web_page_urls(urls["api"]).items():   # the web pages (web/dist, `make web`)
        print(f"  {name:<15} {url}")
    print("  demo users      operator-1 (operator), host-1 and host-2 (hosts), viewer-1, viewer-2")
    print(f"  log in          curl -s -X POST {urls['api']}/v1/auth/login "
          "-H 'Content-Type: application/json' -d '{\"provider\":\"dev\",\"code\":\"host-1\"}'")
    print(f"  OBS             server {urls['rtmp']}  key: GET /v1/rooms/<id>/ingest as the host")
    if args.state_dir:
        print(f"  state           {args.state_dir} ({stack._moto.state_line.partition(' ')[2]}; "
              "`make local FRESH=1` starts clean)")
    print(f"READY {urls['api']}", flush=True)

    from local.loopback import serve_until_stopped

    serve_until_stopped()
    print("stopping...", flush=True)
    stack.stop()
    print("stopped", flush=True)
    # Everything is stopped and flushed (the analytics rows, the embedded AWS's snapshot): skip the
    # interpreter's teardown (freeing the heap object by object, joining the delivery pools' threads).
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
