"""The one error type that the CLI prints as a single line instead of a traceback."""


class UserError(Exception):
    """Bad input or an unavailable dependency, told to the user in one line."""
