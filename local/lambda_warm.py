"""Imported once by the forkserver that local.lambda_runtime's worker processes fork from:
the libraries and the domain package every function loads, so a worker (and each
function's first request in it) does not pay for importing them again."""
import boto3  # noqa: F401
import botocore.loaders
import botocore.session  # noqa: F401

from local import aws_priority

# before any botocore session exists: every session marks an API invocation's AWS calls for the
# embedded AWS (X-Local-Priority: api; local/aws_priority.py)
aws_priority.install()


def _share_botocore_data_files() -> None:
    """Every botocore session reads and parses its data files again (endpoints.json alone is
    about 1 MB), and PynamoDB makes a session per table connection: in a worker that was ~50 ms
    per first use of each table, about three quarters of the workers' CPU under a crowd. The
    files do not change while the stack runs, so one parsed copy serves every session
    (botocore already shares them between the clients of one session)."""
    loader = botocore.loaders.Loader
    if getattr(loader, "_local_shared", False):
        return
    found: dict = {}
    services: dict = {}
    load_data_with_path = loader.load_data_with_path
    list_available_services = loader.list_available_services

    def shared_load(self, name):  # noqa: ANN001, ANN202
        key = (tuple(self.search_paths), name)
        if key not in found:
            found[key] = load_data_with_path(self, name)
        return found[key]

    def shared_list(self, type_name):  # noqa: ANN001, ANN202
        key = (tuple(self.search_paths), type_name)
        if key not in services:
            services[key] = list_available_services(self, type_name)
        return services[key]

    loader.load_data_with_path = shared_load
    loader.list_available_services = shared_list
    loader._local_shared = True


_share_botocore_data_files()
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

# Everything imported so far lives as long as the worker: out of the garbage collector's sight,
# so collections in a worker neither walk it (tens of ms each) nor write to its pages (which
# would copy the forkserver's memory into every worker).
import gc  # noqa: E402

gc.collect()
gc.freeze()
