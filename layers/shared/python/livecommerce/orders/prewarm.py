"""Pre-warm the tables a big flash sale writes: DynamoDB warm throughput, an operator action.

A new on-demand table serves 4,000 write units a second at once and adapts to more only over
minutes; a sale that opens at 10,000 buys a second needs 140,000 in the Orders table at its
first second (sharding.warm_write_units). UpdateTable with WarmThroughput raises what the table
serves at once; it only goes up, takes minutes (the table is UPDATING meanwhile) and is billed
once, so an operator asks for it before the sale, from the sale's expected rate.
"""
from __future__ import annotations

import os
from datetime import datetime

from botocore.exceptions import ClientError

from livecommerce import rooms
from livecommerce.orders import repository, sharding
from livecommerce.orders.models import FlashSalePrewarm, TableWarmth
from livecommerce.orders.spec import ORDERS
from livecommerce.shared import aws, problems
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import utcnow
from livecommerce.shared.platform_spec import IDEMPOTENCY
from livecommerce.shared.settings import get_settings

TABLES = {"Orders": ORDERS, "Idempotency": IDEMPOTENCY}


def _table_name(spec) -> str:
    return os.environ.get(spec.env_var) or getattr(get_settings(), spec.env_var.lower(), None) or spec.env_var


def prewarm(caller: Caller, sale_id: str) -> FlashSalePrewarm:
    if not caller.is_host:      # a viewer: refused as on any sale; a host who cannot see the room: as no sale
        raise problems.Forbidden("Only operators may do this.", code="operator_required")
    sale = repository.get_sale(sale_id)
    if sale is None:
        raise problems.NotFound("No such flash sale.", code="flash_sale_not_found")
    rooms.require_visible(sale.room_id, caller, hidden=problems.NotFound("No such flash sale.",
                                                                         code="flash_sale_not_found"))
    if not caller.is_operator:
        raise problems.Forbidden("Only operators may do this.", code="operator_required")
    if utcnow() >= datetime.fromisoformat(sale.ends_at.replace("Z", "+00:00")):
        raise problems.Conflict("The flash sale has ended.", code="flash_sale_ended")
    if not sale.expected_rate:
        raise problems.Conflict("The sale has no expected_orders_per_second to warm the tables for; "
                                "create it with one.", code="expected_rate_missing")
    rate = int(sale.expected_rate)
    client = aws.client("dynamodb")
    warmth = []
    for logical_id, needed in sharding.warm_write_units(rate).items():
        name = _table_name(TABLES[logical_id])
        try:
            table = client.describe_table(TableName=name)["Table"]
            current = table.get("WarmThroughput") or {}
            write_before = int(current.get("WriteUnitsPerSecond") or sharding.DEFAULT_WARM_WRITE_UNITS)
            read_before = int(current.get("ReadUnitsPerSecond") or sharding.DEFAULT_WARM_READ_UNITS)
            if write_before >= needed:
                warmth.append(TableWarmth(table=logical_id, write_units_needed=needed,
                                          write_units_before=write_before, status="already_warm"))
                continue
            client.update_table(TableName=name, WarmThroughput={"ReadUnitsPerSecond": read_before,
                                                                 "WriteUnitsPerSecond": needed})
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ResourceInUseException":
                raise problems.Conflict(f"The {logical_id} table is being updated (a warm-up may be under way); "
                                        "try again in a few minutes.", code="table_updating",
                                        table=logical_id) from exc
            if code in ("LimitExceededException", "ValidationException"):
                raise problems.Conflict(
                    f"DynamoDB refused {needed} warm write units a second on the {logical_id} table: "
                    "raise the table-level write throughput quota (Service Quotas) first.",
                    code="warm_throughput_refused", table=logical_id, write_units_needed=needed) from exc
            raise
        warmth.append(TableWarmth(table=logical_id, write_units_needed=needed, write_units_before=write_before,
                                  status="warming"))
    shards = int(sale.shards)
    return FlashSalePrewarm(sale_id=sale.sale_id, expected_orders_per_second=rate, shards=shards,
                            shard_ceiling_orders_per_second=sharding.ceiling_orders_per_second(shards),
                            tables=warmth)
