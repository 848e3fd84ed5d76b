"""moto's per-request costs that do not depend on the request, computed once or skipped
(embedded AWS only).

Applied by `local.embedded_aws.speed_up_moto` when the embedded AWS starts. Each patch gives the
same answers as moto's own code (`tests/integration/localstack/test_moto_speedups.py` replays
PutItem, GetItem, Query, Scan, BatchGetItem, UpdateItem, DeleteItem and TransactWriteItems calls,
refusals included, through moto with and without them and compares the answer bytes; and SQS
sends to standard and FIFO queues, comparing the messages kept and the queue attributes):

- `list_of_moto_modules`: the server matched every request's host against a fresh listing of
  moto's package folder (a listdir and ~170 `isdir` calls per request, twice: about a tenth of
  the embedded AWS's CPU). The folder does not change while moto runs: listed once.
- `AttributePicker`'s possible keys: the response serializer asks, for every member of every
  output structure (ten per DynamoDB attribute value), six alias providers which names the member
  may have on the Python object, building six provider objects to do so (a third of the embedded
  AWS's CPU on DynamoDB answers). For a plain `dict` (what DynamoDB's responses hand the
  serializer) the answer depends only on the picker's class and providers, the member's name, its
  shape and the shape's parent, all long-lived botocore objects: computed once per combination.
  Other objects (whose `Meta` aliases or attributes could differ per instance) take moto's path.
  Structures whose value is such a dict are serialized by the same steps with the cached keys
  looked up directly in the dict (no lookup context and path string built per member).
- SQS `send_message` (every EventBridge event delivered to a subscription's queue, too) reads
  one queue attribute, `ContentBasedDeduplication`, through `Queue.attributes`, which builds every
  attribute, counting the queue's messages three times (a fifth of the embedded AWS's CPU under the
  crowd). While a queue without Lambda event source mappings takes a message, its `attributes`
  holds only that attribute, with the value moto's full listing gives it (not present on a
  standard queue). Nothing else in `send_message` reads `attributes`.
"""
from __future__ import annotations

from typing import Any

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _list_moto_modules_once()
    _cache_possible_keys_for_dicts()
    _send_message_reads_one_queue_attribute()
    _applied = True


def _list_moto_modules_once() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    backends.list_of_moto_modules = list_of_moto_modules


def _cache_possible_keys_for_dicts() -> None:
    from moto.core.serialize import AttributePicker
    from moto.core.utils import get_value

    missing = object()
    # (picker class, providers, member key, id(shape), id(parent)) -> (shape, parent, keys); the
    # shape and parent are held so their ids cannot be reused while the entry lives
    cache: dict[tuple[Any, ...], tuple[Any, Any, tuple[str, ...]]] = {}
    original_call = AttributePicker.__call__

    def possible_keys(picker: Any, key: str, shape: Any, context: Any) -> tuple[str, ...] | None:
        """`context`: the lookup context, or a function making it (only needed on a miss)."""
        parent = getattr(shape, "parent", None)
        signature = (type(picker), tuple(picker.alias_providers), key, id(shape), id(parent))
        entry = cache.get(signature)
        if entry is not None and entry[0] is shape and entry[1] is parent:
            return entry[2]
        try:
            keys = tuple(picker.get_possible_keys(context if not callable(context) else context()))
        except Exception:   # noqa: BLE001 - moto's lazy path may never reach what raised: let it decide
            return None
        cache[signature] = (shape, parent, keys)
        return keys

    def __call__(self: Any, context: Any) -> Any:
        obj = context.obj
        if type(obj) is not dict:
            return original_call(self, context)
        keys = possible_keys(self, context.key, context.shape, context)
        if keys is None:
            return original_call(self, context)
        for possible_key in keys:
            value = get_value(obj, possible_key, missing)
            if value is not missing:
                break
        else:
            value = None
        if self.response_transformers:
            key_path = f"{context.key_path}.{context.key}"
            for transform_path, transform in self.response_transformers.items():
                if key_path.endswith(transform_path):
                    value = transform(value)
                    break
        return value

    AttributePicker.__call__ = __call__
    _structures_of_dicts_direct(possible_keys)


def _structures_of_dicts_direct(possible_keys: Any) -> None:
    """A structure whose value is a plain `dict`, serialized by moto's own structure code with
    the default member lookup and an `AttributePicker` without response transformers (DynamoDB's
    answers): each member is looked up with the cached possible keys straight in the dict (what
    `get_value` does for a dict), without building a lookup context and a path string per member.
    Anything else goes through moto's code."""
    from moto.core.serialize import (AttributePicker, AttributePickerContext, ResponseSerializer,
                                     XFormedAttributePicker)
    from moto.core.utils import get_value

    missing = object()
    original = ResponseSerializer._serialize_type_structure
    default_member = ResponseSerializer._serialize_structure_member
    default_get_value = ResponseSerializer.get_value
    pickers = (AttributePicker, XFormedAttributePicker)

    def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        picker = self._value_picker
        cls = type(self)
        if (type(value) is not dict or type(picker) not in pickers or picker.response_transformers
                or cls._serialize_structure_member is not default_member or cls.get_value is not default_get_value):
            return original(self, serialized, value, shape, key)
        wrapper = self.MAP_TYPE() if key else serialized
        for member_key, member_shape in shape.members.items():
            member_shape.parent = shape
            keys = possible_keys(picker, member_key, member_shape, lambda: AttributePickerContext(
                obj=value, key=member_key, shape=member_shape, operation_model=self.operation_model,
                service_model=self.operation_model.service_model, key_path=".".join(self.path)))
            if keys is None:   # moto's own lookup decides
                member_value = self.get_value(value, member_key, member_shape)
            else:
                member_value = None
                for possible_key in keys:
                    if "." in possible_key:
                        found = get_value(value, possible_key, missing)
                        if found is not missing:
                            member_value = found
                            break
                    elif possible_key in value:
                        member_value = value[possible_key]
                        break
            if member_value is not None:
                self._serialize(wrapper, member_value, member_shape, member_key)
        if key:
            self._default_serialize(serialized, wrapper, shape, key)

    ResponseSerializer._serialize_type_structure = _serialize_type_structure


def _send_message_reads_one_queue_attribute() -> None:
    import contextvars

    from moto.sqs.models import Queue, SQSBackend

    sending_to: contextvars.ContextVar[Any] = contextvars.ContextVar("sending_to", default=None)
    all_attributes = Queue.attributes.fget
    original_send = SQSBackend.send_message

    def attributes(self: Any) -> dict[str, Any]:
        if sending_to.get() is not self:
            return all_attributes(self)
        if not self.fifo_queue:   # the attribute is listed for FIFO queues only
            return {}
        value = self.content_based_deduplication
        return {"ContentBasedDeduplication": str(value).lower() if isinstance(value, bool) else value}

    def send_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = self.get_queue(queue_name)
        if queue.lambda_event_source_mappings:
            return original_send(self, queue_name, *args, **kwargs)
        token = sending_to.set(queue)
        try:
            return original_send(self, queue_name, *args, **kwargs)
        finally:
            sending_to.reset(token)

    Queue.attributes = property(attributes)
    SQSBackend.send_message = send_message
