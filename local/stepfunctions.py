"""The same ASL files on moto: state machines, their Lambda tasks on the real handlers, and
EventBridge Scheduler's one-time schedules firing at their time.

- moto's Step Functions executes ASL when its `execute_state_machine` config is on (its
  parser-based backend, `moto.stepfunctions.parser`, a port of LocalStack's interpreter).
  Its Lambda tasks call Lambda through `boto_client_for`, which points at moto itself, whose
  Lambda answers canned results without Docker. `route_lambda_tasks()` points that client at
  the local Lambda Invoke API (local.lambda_api: the real handlers in the warm workers, or
  in-process in the integration tests) given by AWS_ENDPOINT_URL_LAMBDA.
- `create_state_machines()` creates every statemachines/*.asl.json with the substitutions CDK
  fills (cdk/stacks/workflows_stack.py: the same names), so the file that runs locally is the
  file that deploys.
- `SchedulerLoop` fires due one-time schedules (`at(...)`) of moto's EventBridge Scheduler as
  Scheduler does: StartExecution of the target with its Input, then delete the schedule
  (ActionAfterCompletion DELETE). Its clock is injectable: tests move time, not wait.

What differs from AWS: see docs/workflows.md.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
STATEMACHINES = ROOT / "statemachines"
log = logging.getLogger("local.stepfunctions")



def machine_specs() -> dict[str, Any]:
    """ASL file stem -> its StateMachineSpec (livecommerce.manifest.STATE_MACHINES: the table the
    workflows stack reads too)."""
    from livecommerce.manifest import STATE_MACHINES

    return {machine.asl: machine for machine in STATE_MACHINES}


def function_name(prefix: str, name: str) -> str:
    """A function's physical name (cdk ApiStack.function_name, local.resources)."""
    return f"{prefix}-{name.replace('_', '-')}"


def enable_execution() -> None:
    """Turn on moto's ASL execution (inside a mock_aws context or in the embedded AWS process)."""
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"] = {"execute_state_machine": True}


def route_lambda_tasks(endpoint: Callable[[], str | None] = lambda: os.environ.get("AWS_ENDPOINT_URL_LAMBDA")) -> None:
    """moto's state machine Lambda tasks reach the real handlers through the local Lambda API."""
    import boto3
    from botocore.config import Config

    import moto.stepfunctions.parser.asl.utils.boto_client as boto_client_module

    original = getattr(boto_client_module, "_lc_original", boto_client_module.boto_client_for)

    def boto_client_for(region: str, service: str, state_credentials: Any = None):
        url = endpoint() if service == "lambda" else None
        if not url:
            return original(region=region, service=service, state_credentials=state_credentials)
        return boto3.client("lambda", region_name=region, endpoint_url=url, aws_access_key_id="ak",
                            aws_secret_access_key="sk",
                            config=Config(retries={"max_attempts": 0, "total_max_attempts": 1},
                                          connect_timeout=10, read_timeout=900))

    boto_client_module._lc_original = original
    # Every module that imported the function by name (state_task_lambda, the lambda service task, ...).
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is not None:
            module.boto_client_for = boto_client_for


def substitutions(*, region: str, account: str, prefix: str) -> dict[str, str]:
    """Every ${Substitution} of every ASL file -> its value (the task functions' ARNs), from the
    StateMachineSpecs, as the workflows stack's DefinitionSubstitutions fill them."""
    values: dict[str, str] = {}
    for machine in machine_specs().values():
        for placeholder, function in machine.tasks:
            values[placeholder] = f"arn:aws:lambda:{region}:{account}:function:{function_name(prefix, function)}"
    return values


def definition(stem: str, values: dict[str, str]) -> str:
    text = (STATEMACHINES / f"{stem}.asl.json").read_text()
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    if "${" in text:
        raise ValueError(f"{stem}.asl.json has a substitution nobody fills")
    return text


def state_machine_name(prefix: str, stem: str) -> str:
    return machine_specs()[stem].physical_name(prefix)


def state_machine_arn(prefix: str, stem: str, *, region: str, account: str) -> str:
    return f"arn:aws:states:{region}:{account}:stateMachine:{state_machine_name(prefix, stem)}"


def scheduled_machines() -> list[Any]:
    return [machine for machine in machine_specs().values() if machine.scheduled]


def create_state_machines(session: Any, *, prefix: str, account: str = "123456789012") -> dict[str, str]:
    """Create (or update) every state machine; returns {stem: arn}."""
    region = session.region_name
    sfn = session.client("stepfunctions")
    role = f"arn:aws:iam::{account}:role/{prefix}-workflows"
    values = substitutions(region=region, account=account, prefix=prefix)
    arns: dict[str, str] = {}
    existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    for stem in machine_specs():
        name = state_machine_name(prefix, stem)
        body = definition(stem, values)
        if name in existing:
            sfn.update_state_machine(stateMachineArn=existing[name], definition=body)
            arns[stem] = existing[name]
        else:
            arns[stem] = sfn.create_state_machine(name=name, definition=body, roleArn=role)["stateMachineArn"]
    return arns


def create_schedule_groups(session: Any, *, prefix: str) -> list[str]:
    """The scheduled machines' Scheduler groups (kept if they exist); returns their names."""
    scheduler = session.client("scheduler")
    groups: list[str] = []
    for machine in scheduled_machines():
        group = machine.schedule_group(prefix)
        try:
            scheduler.create_schedule_group(Name=group)
        except scheduler.exceptions.ConflictException:
            pass   # kept from the last run (the state folder)
        groups.append(group)
    return groups


def workflows_env(prefix: str, *, region: str, account: str = "123456789012") -> dict[str, str]:
    """The functions' workflow environment, as the workflows stack sets it: <KEY>_STATE_MACHINE_ARN
    and <KEY>_SCHEDULE_GROUP of each scheduled machine, SCHEDULER_ROLE_ARN, and <KEY>_STATE_MACHINE_ARN
    of each machine a function starts (FunctionSpec.starts_workflows: the replay machine). The names
    are those `create_state_machines` and `create_schedule_groups` give (the local stack, the tests)."""
    from livecommerce.manifest import FUNCTION_SPECS
    from livecommerce.shared.spec import scheduler_role_name

    env: dict[str, str] = {}
    for machine in scheduled_machines():
        env[f"{machine.env_prefix}_STATE_MACHINE_ARN"] = state_machine_arn(prefix, machine.asl, region=region,
                                                                           account=account)
        env[f"{machine.env_prefix}_SCHEDULE_GROUP"] = machine.schedule_group(prefix)
    env["SCHEDULER_ROLE_ARN"] = f"arn:aws:iam::{account}:role/{scheduler_role_name(prefix)}"
    started = {key for spec in FUNCTION_SPECS for key in spec.starts_workflows}
    for machine in machine_specs().values():
        if machine.key in started:
            env[f"{machine.env_prefix}_STATE_MACHINE_ARN"] = state_machine_arn(prefix, machine.asl, region=region,
                                                                               account=account)
    return env


class SchedulerLoop:
    """Fires moto's EventBridge Scheduler one-time schedules when they are due."""

    def __init__(self, session: Any, *, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 groups: tuple[str, ...] = ("default",), interval_seconds: float = 1.0) -> None:
        self.scheduler = session.client("scheduler")
        self.sfn = session.client("stepfunctions")
        self.clock = clock
        self.groups = groups
        self.interval = interval_seconds
        self.fired: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[dict[str, Any]]:
        """Start the executions of every due schedule and delete those schedules."""
        from livecommerce.notifications.rules import parse_at

        now = self.clock()
        fired = []
        for group in self.groups:
            for summary in self.scheduler.list_schedules(GroupName=group).get("Schedules", []):
                schedule = self.scheduler.get_schedule(Name=summary["Name"], GroupName=group)
                if schedule.get("State", "ENABLED") != "ENABLED":
                    continue
                expression = schedule["ScheduleExpression"]
                if not expression.startswith("at("):
                    continue
                if parse_at(expression) > now:
                    continue
                target = schedule["Target"]
                if ":states:" not in target["Arn"]:
                    log.warning("schedule %s targets %s, which the local scheduler does not run",
                                summary["Name"], target["Arn"])
                    continue
                execution = self.sfn.start_execution(stateMachineArn=target["Arn"], name=uuid.uuid4().hex,
                                                     input=target.get("Input", "{}"))
                if schedule.get("ActionAfterCompletion", "NONE") == "DELETE":
                    self.scheduler.delete_schedule(Name=summary["Name"], GroupName=group)
                record = {"name": summary["Name"], "group": group, "execution_arn": execution["executionArn"],
                          "input": json.loads(target.get("Input", "{}"))}
                fired.append(record)
                log.info("schedule %s fired: %s", summary["Name"], execution["executionArn"])
        self.fired.extend(fired)
        return fired

    def start(self) -> None:
        def run() -> None:
            while not self._stop.wait(self.interval):
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - the loop keeps going; the next tick retries
                    log.exception("scheduler tick failed")
        self._thread = threading.Thread(target=run, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class ShiftableClock:
    """The local scheduler's clock: real time plus an offset a test (or a curious developer) moves
    through the control endpoint, so a reminder 15 minutes away fires now."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset_seconds = float(offset_seconds)

    def __call__(self) -> datetime:
        from datetime import timedelta

        return datetime.now(timezone.utc) + timedelta(seconds=self.offset_seconds)


class LocalWorkflows:
    """`make local`'s workflows: the state machines from the ASL files, the scheduled machines'
    schedule groups, the functions' environment (the same names the workflows stack gives them),
    a SchedulerLoop on a ShiftableClock and its control endpoint:

        GET  /__local/clock                       {"now", "offset_seconds"}
        POST /__local/clock {"advance_seconds": n} or {"offset_seconds": n}   move the clock
        POST /__local/scheduler/tick              fire what is due now; the schedules it fired
    """

    def __init__(self, session: Any, *, prefix: str, account: str = "123456789012", host: str = "127.0.0.1",
                 interval_seconds: float = 1.0) -> None:
        self.session = session
        self.prefix = prefix
        self.arns = create_state_machines(session, prefix=prefix, account=account)
        self.groups = create_schedule_groups(session, prefix=prefix)
        self.env = workflows_env(prefix, region=session.region_name, account=account)
        self.clock = ShiftableClock()
        self.loop = SchedulerLoop(session, clock=self.clock, groups=tuple(self.groups),
                                  interval_seconds=interval_seconds)
        self._tick_lock = threading.Lock()
        self._fire = self.loop.tick
        self.host = host
        self._server = None

    def tick(self) -> list[dict[str, Any]]:
        with self._tick_lock:   # the loop's thread and the control endpoint never fire one schedule twice
            return self._fire()

    def start(self) -> str:
        from local.loopback import LoopbackServer, Reply, Router

        def clock_state(_request: Any) -> Reply:
            return Reply.json({"now": self.clock().isoformat(), "offset_seconds": self.clock.offset_seconds})

        def move_clock(request: Any) -> Reply:
            try:
                body = request.json()
                if "advance_seconds" in body:
                    self.clock.offset_seconds += float(body["advance_seconds"])
                elif "offset_seconds" in body:
                    self.clock.offset_seconds = float(body["offset_seconds"])
                else:
                    raise ValueError("give advance_seconds or offset_seconds")
            except (ValueError, TypeError) as exc:
                return Reply.json({"error": str(exc)}, 400)
            return clock_state(request)

        def tick(_request: Any) -> Reply:
            return Reply.json({"fired": self.tick()})

        router = Router().add("GET", r"/__local/clock", clock_state).add("POST", r"/__local/clock", move_clock) \
            .add("POST", r"/__local/scheduler/tick", tick)
        self._server = LoopbackServer(router, name="local-scheduler", host=self.host)
        url = self._server.start()
        self.loop.tick = self.tick    # the background loop goes through the same lock
        self.loop.start()
        return url

    def stop(self) -> None:
        self.loop.stop()
        if self._server is not None:
            self._server.stop()
