"""``reported_as``: a library's error leaves a command as the command's own error, with the same sentence."""

from __future__ import annotations

import pytest

from emulator.exceptions import ConfigurationError, EmulatorError, reported_as


class LibraryError(Exception):
    pass


class CommandError(EmulatorError):
    pass


def test_the_library_error_becomes_the_commands_with_its_message_and_cause() -> None:
    with (
        pytest.raises(CommandError, match=r"^the query has no window$") as caught,
        reported_as(LibraryError, CommandError),
    ):
        raise LibraryError("the query has no window")
    assert isinstance(caught.value.__cause__, LibraryError)


def test_other_errors_pass_through_unchanged() -> None:
    with pytest.raises(ConfigurationError, match="other"), reported_as(LibraryError, CommandError):
        raise ConfigurationError("other")


def test_a_block_that_does_not_raise_returns_normally() -> None:
    with reported_as(LibraryError, CommandError):
        value = 1 + 1
    assert value == 2
