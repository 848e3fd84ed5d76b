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

SPEC = ContextSpec(
    name="notifications",
    description="Subscribe messages, Alipay template messages, SMS, send records, reminders",
    tables=(NOTIFICATIONS,),
    routes=(
        Route("GET", "/v1/me/notification-settings", "notifications", "token", "viewer"),
        Route("PUT", "/v1/me/notification-settings", "notifications", "token", "viewer"),
    ),
    subscriptions=(
        # A scheduled, rescheduled or ended (cancelled) room moves its reminder schedules.
        Subscription("ReminderSchedules", "reminder_schedules",
                     detail_types=("RoomCreated", "RoomUpdated", "RoomStarted", "RoomEnded")),
    ),
    functions=(
        FunctionSpec(
            name="notifications",
            description="Notifications: the viewer's notice settings (unsubscribe)",
            tables_write=(NOTIFICATIONS,),
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
            memory_mb=512,
            timeout_seconds=30,
        ),
    ),
    emits=("NoticeRunCompleted",),
    router="livecommerce.notifications.router",
    state_machines=(REMINDER,),
)
