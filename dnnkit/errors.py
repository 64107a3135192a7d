"""Error types shared by the helpers.

A ``UserError`` is something the user can fix (a bad option, a missing or
corrupted data file, an output folder that cannot be written).  The scripts
turn it into a one-line message and exit code 2 instead of a traceback.
"""


class UserError(Exception):
    """A problem the user can fix; reported as one line, exit code 2."""


class DataError(UserError):
    """A data file is missing, truncated or malformed, or no data was found."""
