"""Run the outbox in the test process: what a sender task does."""

import time_machine

from clinics.services.sending import messages_send_due


def send_all(now):
    """Send every message due at `now`, as a sender task would; returns the outcomes."""
    with time_machine.travel(now, tick=False):
        return messages_send_due()
