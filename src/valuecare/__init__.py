"""valuecare: value-based health care analytics on DuckDB or Spark.

The public surface:

- :class:`Workspace` - open a workspace folder, ``load`` data into it, ``run`` the
  pipeline, read results as Ibis tables (``table``) or pandas frames (``to_pandas``).
- :func:`generate` and :class:`SynthConfig` - the synthetic population with planted truth.
- :mod:`valuecare.errors` - the exceptions valuecare raises for users.
"""

from __future__ import annotations

from typing import Any

from valuecare._version import __version__
from valuecare.errors import (
    BackendUnavailable,
    InvalidInput,
    MissingFile,
    RunFailed,
    UnknownTable,
    ValuecareError,
    WorkspaceError,
)
from valuecare.model.schema import TABLES
from valuecare.model.workspace import Workspace

__all__ = [
    "TABLES",
    "BackendUnavailable",
    "InvalidInput",
    "MissingFile",
    "RunFailed",
    "SynthConfig",
    "UnknownTable",
    "ValuecareError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "generate",
]


def __getattr__(name: str) -> Any:  # the generator is imported only when asked for
    if name in ("generate", "SynthConfig"):
        from valuecare import synth

        return getattr(synth, name)
    raise AttributeError(f"module 'valuecare' has no attribute {name!r}")
