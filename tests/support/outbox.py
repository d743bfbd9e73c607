"""Run the outbox in the test process: what the dispatcher and the send tasks do."""

import time_machine

from clinics.models import Message
from clinics.services.outbox import message_send, messages_dispatch


def send_all(now):
    """Dispatch every due message at `now` and send each with its claim; returns the outcomes."""
    with time_machine.travel(now, tick=False):
        ids = messages_dispatch()
        claims = dict(Message.objects.filter(id__in=ids).values_list("id", "claim"))
        return [message_send(message_id=i, claim=str(claims[i])) for i in ids]
