"""The one exception type of the datasets package."""


class DatasetError(ValueError):
    """A dataset problem found before training: the message names the file or folder and the fix (one line)."""
