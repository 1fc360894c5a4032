"""Errors valuecare raises for users: each says what went wrong, where, and how to fix it.

Every class derives from :class:`ValuecareError`; those about bad input also derive from
the matching builtin, so ``except ValueError`` keeps working.  The CLI prints the message
of any ``ValuecareError`` as one line and exits with status 2, never a traceback.
"""

from __future__ import annotations


class ValuecareError(Exception):
    """Root of valuecare's own errors."""


class InvalidInput(ValueError, ValuecareError):
    """Input data cannot be used as it is (missing file, missing column, unreadable)."""


class MissingFile(FileNotFoundError, ValuecareError):
    """A file or folder the command needs is not there."""


class UnknownTable(KeyError, ValuecareError):
    """A canonical or result table name that does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; ours reads as a sentence
        return str(self.args[0]) if self.args else ""


class WorkspaceError(RuntimeError, ValuecareError):
    """The workspace is missing, locked, or not in the state the command needs."""


class BackendUnavailable(ImportError, ValuecareError):
    """An optional engine is not installed."""


class RunFailed(RuntimeError, ValuecareError):
    """A pipeline run failed; the previous results are left as they were."""


class ConditionDefinitionError(InvalidInput):
    """A condition definition (YAML in the condition library) is missing or invalid."""


class CostingDefinitionError(InvalidInput):
    """A costing input (resource catalog, process map, step times) is missing or invalid."""
