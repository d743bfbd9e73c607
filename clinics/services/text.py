"""Text that goes into a header line (an email subject), whatever a stored value holds."""

import re

# Line breaks and other control characters: a CR LF from a name or MRN in a subject would make
# the send fail with BadHeaderError, and a safety alert must not fail over a stored value.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str) -> str:
    """The text on one line: control characters become spaces, runs of spaces one."""
    return " ".join(_CONTROL.sub(" ", text).split())
