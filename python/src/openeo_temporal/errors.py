"""What the package raises for a message or a name that breaks the hook contract."""

from __future__ import annotations


class ContractError(ValueError):
    """A message that does not follow the hook contract; the text names the field at fault."""


class InvalidFileName(ContractError):
    """A name that is not a plain file name of the tile's folder."""
