"""Configuration of one synthetic population run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from valuecare.errors import InvalidInput

Format = Literal["parquet", "csv"]

#: Tag written in ``data_source`` of every canonical row the generator produces.
DATA_SOURCE = "valuecare_synth"
#: Version of the generator's rules; bump when the same seed would give other data.
GENERATOR_VERSION = "1.1.0"


@dataclass(frozen=True)
class SynthConfig:
    """What to generate.

    ``members`` people followed for ``years`` calendar years from ``start_year``;
    ``seed`` makes the output reproducible byte for byte; ``dirty=True`` injects
    realistic faults and forces ``fmt="csv"``; members are generated ``chunk_size``
    at a time and each chunk is written as one more part file per table.
    ``episode_scale`` multiplies the yearly incidence of the acute episodes (joint
    replacement, CABG, breast-cancer surgery; capped at 95% a year): 1.0 is realistic, a
    larger value gives an *enriched cohort* with enough episodes per surgeon to test
    provider comparisons on a small population.
    """

    members: int = 5000
    years: int = 3
    seed: int = 7
    start_year: int = 2023
    dirty: bool = False
    fmt: Format = "parquet"
    chunk_size: int = 50_000
    episode_scale: float = 1.0

    def __post_init__(self) -> None:
        def bad(what: str) -> InvalidInput:
            return InvalidInput(f"SynthConfig: {what}")

        for name in ("members", "years", "seed", "start_year", "chunk_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad(f"{name} must be an integer, got {value!r}")
        if self.members < 1:
            raise bad(f"members must be >= 1, got {self.members}; ask for at least one member")
        if not 1 <= self.years <= 10:
            raise bad(f"years must be between 1 and 10, got {self.years}")
        if self.seed < 0:
            raise bad(f"seed must be >= 0, got {self.seed}")
        if not 1990 <= self.start_year <= 2090:
            raise bad(f"start_year must be between 1990 and 2090, got {self.start_year}")
        if self.chunk_size < 1:
            raise bad(f"chunk_size must be >= 1, got {self.chunk_size}")
        if isinstance(self.episode_scale, bool) or not isinstance(
                self.episode_scale, (int, float)) or not 0 < self.episode_scale <= 100:
            raise bad(f"episode_scale must be a number in (0, 100], got {self.episode_scale!r}")
        if self.fmt not in ("parquet", "csv"):
            raise bad(f"fmt must be 'parquet' or 'csv', got {self.fmt!r}")
        if self.dirty and self.fmt != "csv":
            object.__setattr__(self, "fmt", "csv")

    @property
    def n_chunks(self) -> int:
        return -(-self.members // self.chunk_size)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
