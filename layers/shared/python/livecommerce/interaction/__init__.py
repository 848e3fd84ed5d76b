"""Interaction: the real-time room channel on IoT Core.

  danmaku     POST -> validation and moderation -> stored (TTL) -> the DynamoDB
              stream -> realtime batcher -> one sampled batch per room at most
              every 200 ms on the room's `danmaku` topic; the sender's own copy
              at once on their private topic.
  likes       POST -> exact sharded counters -> stream -> the total at most once
              a second on the room's `events` topic.
  broadcasts  domain events (room lifecycle, products, stock, flash sales,
              coupons) -> the room's `events` topic; product and flash-sale
              cards also ride in the video as IVS timed metadata.
  realtime    GET -> endpoint, client id, credentials, topics; the IoT Core
              custom authorizer turns our login token into an IoT policy.

Pure rules (density, moderation text rules, limits, topics, IoT policies) need
no AWS; `realtime` encodes and publishes every message through the realtime
port (livecommerce.shared.ports; IoT Core's data plane in shared.realtime_publisher).
Rooms and identity are reached through their public faces (`livecommerce.rooms`,
`livecommerce.identity`); consumed events are parsed with their producers' models
(`consumed`).
"""
