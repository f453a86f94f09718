"""The one error a feed reader raises: the document as a whole cannot be read.

Readers never raise for a bad value in one record (a malformed UPN, an unknown register code):
they yield the record with its strings as sent and the intake rejects it with its locator, so a
school learns about every bad record at once. ``MalformedFeed`` is for the opposite case, where
nothing after the fault can be trusted: XML that is not well-formed or carries a DTD, a CSV header
that does not match the contract, a JSON body that is not an array of mark objects.
"""

from __future__ import annotations


class MalformedFeed(Exception):
    """The feed cannot be read past ``position``: "line 4, column 17", "byte 1031", "$[12].date"."""

    def __init__(self, message: str, position: str) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} at {self.position}"
