"""Answers that try to fool a checker: objects that compare equal to everything (shared by the exercise tests).

A checker must read an answer by its type and value, never by ``answer == expected`` or ``key in answer``
alone: each of these passes such a comparison whatever it is compared with.
"""


class EqualStr(str):
    """A string equal to every other object."""

    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


class EqualInt(int):
    """An integer equal to every other object."""

    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class YesDict(dict):
    """An empty dict that equals everything and claims to hold every key."""

    def __eq__(self, other):
        return True

    def __contains__(self, key):
        return True
