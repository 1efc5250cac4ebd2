"""The one kind of error a scenario raises: it names the file, the key and what is allowed.

Whatever a file holds, the message stays one short line a terminal shows as it is: control
characters (a newline, an escape code) are written as escapes and each part is cut to a length a
reader can take in (:func:`clean`).
"""

from __future__ import annotations

#: the longest file name, key or message a :class:`ScenarioError` shows, in characters
MAX_PART = 600
#: the longest a value quoted in a message is shown (:func:`shown`)
MAX_VALUE = 80


def clean(text: object, limit: int = MAX_PART) -> str:
    """``text`` as one printable line of at most about ``limit`` characters: control characters
    escaped (``\\x1b``, ``\\n``), the middle of a longer text cut out (``…``)."""
    out = []
    for char in str(text):
        code = ord(char)
        if code < 32 or 127 <= code < 160 or 0x2028 <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    line = "".join(out)
    if len(line) <= limit:
        return line
    head = limit * 2 // 3
    return f"{line[:head]} … {line[-(limit - head - 3) :]}"


def shown(value: object) -> str:
    """A value as a message quotes it: its repr, escaped and at most :data:`MAX_VALUE` long."""
    return clean(repr(value), MAX_VALUE)


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the file, the key and what is allowed."""

    def __init__(self, source: str, key: str, message: str) -> None:
        source, key, message = clean(source), clean(key, MAX_PART // 3), clean(message)
        self.source, self.key, self.message = source, key, message
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")
