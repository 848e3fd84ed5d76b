"""What the notifications context declares: its table, routes, functions, subscriptions and events."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, Route, StateMachineSpec, Subscription, TableSpec

# Notifications: one send record per (notice kind, reason, user) written with a conditional put
# before the provider is called (a notice is never sent twice for the same reason), the
# one-time subscribe-message consent a send used, the per-user daily frequency counters and
# the viewer's unsubscribe settings. Counters expire with `expires_at`.
NOTIFICATIONS = TableSpec(
    logical_id="Notifications",
    env_var="NOTIFICATIONS_TABLE",
    ttl_attribute="expires_at",
)

# The reminder workflow: statemachines/reservation_reminder.asl.json, started by the
# reminder_schedules function's one-time schedules (15 minutes before the start, at go-live).
REMINDER = StateMachineSpec(
    key="reminder",
    asl="reservation_reminder",
    name="reservation-reminder",
    tasks=(("NotifyTasksFunctionArn", "notify_tasks"),),
    scheduled=True,
    distributed_map=True,
    description="Reservation reminders: pages through a room's reservations and sends each viewer one notice",
)

# Post-live notices and previews: one machine per notice kind, each started by its one-time
# schedule (notices.put_schedule: the room ended and its replay is ready, or the wait ran out; a
# room announced), paging through its audience (one analytics query) into a Distributed Map.
def _audience_machine(key: str, asl: str, name: str, description: str) -> StateMachineSpec:
    return StateMachineSpec(key=key, asl=asl, name=name, tasks=(("NoticeTasksFunctionArn", "notice_tasks"),),
                            scheduled=True, distributed_map=True, description=description)


NON_BUYER_NOTICE = _audience_machine(
    "non_buyer_notice", "non_buyer_notice", "non-buyer-notice",
    "Post-live: the replay link (and the host's coupon) to viewers who watched 5 minutes, clicked and did not buy")
ORDER_SUMMARY_NOTICE = _audience_machine(
    "order_summary_notice", "order_summary_notice", "order-summary-notice",
    "Post-live: each buyer's order summary of the session")
ROOM_PREVIEW_NOTICE = _audience_machine(
    "room_preview_notice", "room_preview_notice", "room-preview-notice",
    "A new room announced: a preview to the host's followers chosen by the host's tag rule")

SPEC = ContextSpec(
    name="notifications",
    description="Subscribe messages, Alipay template messages, SMS, send records, reminders, post-live notices",
    tables=(NOTIFICATIONS,),
    routes=(
        Route("GET", "/v1/me/notification-settings", "notifications", "token", "viewer"),
        Route("PUT", "/v1/me/notification-settings", "notifications", "token", "viewer"),
        Route("GET", "/v1/me/notice-consents", "notifications", "token", "viewer"),
        Route("POST", "/v1/me/notice-consents", "notifications", "token", "viewer"),
        Route("DELETE", "/v1/me/notice-consents/{kind}", "notifications", "token", "viewer", errors=(404,)),
        Route("GET", "/v1/rooms/{room_id}/notice-settings", "notifications", "token", "host"),
        Route("PUT", "/v1/rooms/{room_id}/notice-settings", "notifications", "token", "host", errors=(404, 409)),
        Route("GET", "/v1/rooms/{room_id}/notices", "notifications", "token", "host"),
        Route("GET", "/v1/me/preview-audience", "notifications", "token", "host"),
        Route("PUT", "/v1/me/preview-audience", "notifications", "token", "host"),
    ),
    subscriptions=(
        # A scheduled, rescheduled or ended (cancelled) room moves its reminder schedules.
        Subscription("ReminderSchedules", "reminder_schedules",
                     detail_types=("RoomCreated", "RoomUpdated", "RoomStarted", "RoomEnded")),
        # Post-live runs (room ended, replay ready), previews (room announced), shipping notices.
        Subscription("NoticeTriggers", "notice_triggers",
                     detail_types=("RoomCreated", "RoomEnded", "ReplayReady", "OrderShipped", "OrderDelivered")),
    ),
    functions=(
        FunctionSpec(
            name="notifications",
            description="Notifications: the viewer's notice settings and consents, the host's notice choices and runs",
            tables_write=(NOTIFICATIONS,),
            tables_read=("Rooms", "Marketing"),      # the room's host; the chosen coupon template exists
        ),
        FunctionSpec(
            name="notice_triggers",
            description="Room ended / replay ready / room announced: the notice runs' one-time schedules; "
                        "order shipped / delivered: the buyer's shipping notice",
            tables_write=(NOTIFICATIONS,),
            tables_read=("Rooms", "Identity"),
            schedules_workflows=("non_buyer_notice", "order_summary_notice", "room_preview_notice"),
            reads_providers_secret=True,
            pii_encryption_context=("room_id", "viewer_id"),
            sends_sms=True,
            sends_notices=True,                                  # WECHAT_/ALIPAY_TEMPLATE_<KIND>
            memory_mb=256,
            timeout_seconds=30,
        ),
        FunctionSpec(
            name="notice_tasks",
            description="The post-live and preview notice state machines' tasks: check, audience page (analytics "
                        "query), send one notice (coupon through marketing), finish",
            tables_write=(NOTIFICATIONS, "Marketing"),          # marketing.grant_coupon writes its own table
            tables_read=("Rooms", "Identity"),
            queries_analytics=True,
            reads_providers_secret=True,
            pii_encryption_context=("room_id", "viewer_id"),
            puts_events=True,                                    # NoticeRunCompleted
            sends_sms=True,
            sends_notices=True,                                  # WECHAT_/ALIPAY_TEMPLATE_<KIND>
            memory_mb=1024,
            timeout_seconds=120,
        ),
        FunctionSpec(
            name="reminder_schedules",
            description="Room scheduled, moved or cancelled: EventBridge Scheduler one-time schedules "
                        "that start the reminder state machine",
            # Reads the room again (an event may be older than the room). The workflows stack grants
            # scheduler:Create/Update/DeleteSchedule on the reminder group and iam:PassRole of the
            # scheduler's role.
            tables_read=("Rooms",),
            schedules_workflows=("reminder",),
            memory_mb=256,
        ),
        FunctionSpec(
            name="notify_tasks",
            description="The reminder state machine's tasks: check the room, page reservations, send one notice",
            tables_write=(NOTIFICATIONS,),
            tables_read=("Rooms", "Identity"),
            reads_providers_secret=True,                         # WeChat / Alipay app credentials
            pii_encryption_context=("room_id", "viewer_id"),    # decrypts the reservation's phone
            puts_events=True,                                    # NoticeRunCompleted
            sends_sms=True,                                      # SNS Publish to a phone number
            sends_notices=True,                                  # WECHAT_/ALIPAY_TEMPLATE_<KIND>
            memory_mb=512,
            timeout_seconds=30,
        ),
    ),
    emits=("NoticeRunCompleted",),
    router="livecommerce.notifications.router",
    state_machines=(REMINDER, NON_BUYER_NOTICE, ORDER_SUMMARY_NOTICE, ROOM_PREVIEW_NOTICE),
)
