"""The names a hook may give files in a tile's folder: plain, not hidden, no folders."""

from __future__ import annotations

import re

from .errors import InvalidFileName

_PLAIN_NAME = re.compile(r"[A-Za-z0-9._-]+")


def check_file_name(name: str) -> str:
    """The name itself when it is a plain file name (``[A-Za-z0-9._-]+``, not hidden), else InvalidFileName."""
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name) or name.startswith("."):
        raise InvalidFileName(
            f"file name {name!r}: use a plain name of letters, digits, '.', '_' and '-', not starting with '.'"
        )
    return name
