"""Celery tasks: thin callers of the services, idempotent, safe to run twice (acks_late with
reject_on_worker_lost: a task whose worker died is delivered again). Their names are
`core.vocab.TaskName`, by which services queue them and beat runs them."""

import gc
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from celery import Task, shared_task
from celery.signals import worker_process_init, worker_process_shutdown

from .core.vocab import TaskName
from .services.checks import checks_mark_overdue
from .services.courses import courses_activate_due
from .services.digests import overdue_digests_queue
from .services.emails import emails_prepare
from .services.findings import findings_escalate
from .services.idempotency import idempotency_keys_forget
from .services.mail_connection import mail_connection_close
from .services.outbox import messages_dispatch
from .services.reminders import reminders_queue_due
from .services.replanning import plans_roll_forward
from .services.sending import messages_send_due

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _task(name: TaskName) -> Callable[[Callable[_P, _R]], Task[_P, _R]]:
    """Acknowledged after running, delivered again if the worker dies: every task is idempotent."""
    return shared_task(name=name.value, acks_late=True, reject_on_worker_lost=True)


@_task(TaskName.ACTIVATE_STARTED_COURSES)
def activate_started_courses() -> int:
    """Planned courses whose start date has come become active."""
    return courses_activate_due()


@_task(TaskName.ROLL_PLANS_FORWARD)
def roll_plans_forward() -> int:
    """Extend every open course's plan as the rolling horizon moves on."""
    return plans_roll_forward()


@_task(TaskName.QUEUE_REMINDERS)
def queue_reminders() -> int:
    """Queue the patient reminders whose moment has come, then dispatch."""
    queued = reminders_queue_due()
    messages_dispatch()
    return queued


@_task(TaskName.MARK_OVERDUE_AND_DIGEST)
def mark_overdue_and_digest() -> int:
    """Mark checks overdue, escalate findings left undecided and queue each clinic's daily staff
    digest."""
    checks_mark_overdue()
    findings_escalate()
    queued = overdue_digests_queue()
    messages_dispatch()
    return queued


@_task(TaskName.DISPATCH_MESSAGES)
def dispatch_messages() -> dict[str, int]:
    """Wake senders for the due outbox rows (also the recovery of every lost wake-up)."""
    return messages_dispatch()


@_task(TaskName.SEND_DUE_MESSAGES)
def send_due_messages(safety: bool = False) -> int:
    """Claim and send due outbox rows: safety messages only, or everything, safety first."""
    return len(messages_send_due(safety_only=safety))


@_task(TaskName.FORGET_IDEMPOTENCY_KEYS)
def forget_idempotency_keys() -> int:
    """Drop API idempotency keys past their keeping period."""
    return idempotency_keys_forget()


@worker_process_init.connect
def _prepare(**_: Any) -> None:
    """A new worker process is ready to send at once. What it has loaded stays for its life, so
    it is frozen out of the garbage collector's scans (a tenth of a millisecond per message)."""
    emails_prepare()
    gc.collect()
    gc.freeze()


@worker_process_shutdown.connect
def _close_mail_connection(**_: Any) -> None:
    """A worker process that stops says goodbye to the mail server (QUIT)."""
    mail_connection_close()
