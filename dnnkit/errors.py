"""Errors the user can fix: the scripts end them with one line, "Error: ...", and exit code 2."""


class UserError(Exception):
    """A problem the user can fix (a bad option, an output folder that cannot be written)."""


class DataError(UserError):
    """A data file is missing, truncated or malformed, or no data was found."""
