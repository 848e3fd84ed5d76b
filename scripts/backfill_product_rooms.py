"""Index the rooms that presented each product from the event log's history (run once per stage,
after the deploy that added analytics.product_room_index onto an event log with history; later
presentations are indexed as they happen). Repeatable: it writes the same items again.

    EVENT_LOG_TABLE=<stage>-eventlog ROOMS_TABLE=<stage>-rooms AWS_REGION=... \
        python scripts/backfill_product_rooms.py

It scans the event log (a full read of the table: its read capacity for a few minutes per million
events) and reads each presenting room once per presenting event to file it under its host.
"""
from livecommerce.analytics import product_room_index

if __name__ == "__main__":
    print(f"indexed {product_room_index.backfill()} product-room items")
