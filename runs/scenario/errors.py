"""The one kind of error a scenario raises: it names the file, the key and what is allowed."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the file, the key and what is allowed."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key, self.message = source, key, message
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")
