"""Imported once by the forkserver that local.lambda_runtime's worker processes fork from:
the libraries and the domain package every function loads, so a worker (and each
function's first request in it) does not pay for importing them again."""
import boto3  # noqa: F401
import botocore.session  # noqa: F401
import pydantic  # noqa: F401
from aws_lambda_powertools.event_handler import APIGatewayRestResolver  # noqa: F401

from livecommerce import http_routers, manifest  # noqa: F401
from local import lambda_context  # noqa: F401

# botocore's service models are read lazily; read the ones the functions use now.
_loader = botocore.session.get_session().get_component("data_loader")
for _service in ("dynamodb", "events", "secretsmanager", "kms", "s3", "sqs", "iot-data", "lambda", "ivs"):
    try:
        _loader.load_service_model(_service, "service-2")
    except Exception:  # noqa: BLE001 - a missing model only costs its later import
        pass

# One warm container of every function, made here once: each worker forks with them.
from local import lambda_runtime  # noqa: E402

for _handler in sorted(lambda_runtime.FUNCTIONS_DIR.glob("*/handler.py")):
    _pool = lambda_runtime._pool(_handler.parent.name)
    _pool.release(_pool.acquire())
