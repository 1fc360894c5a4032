"""Small vectorised helpers: random streams, dates, money, identifiers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MONEY = pa.decimal128(18, 2)
_EPOCH = np.datetime64("1970-01-01", "D")

# Random streams: one per module so that changing one module leaves the others' draws alone.
S_PROVIDERS = 1
S_MEMBERS = 2
S_ENROLL = 3
S_UTIL = 4
S_CONDITIONS = 5
S_PHARMACY = 6
S_OBS = 7
S_FINALIZE = 8
S_FAULTS = 9
S_COSTING = 10


def rng_for(seed: int, chunk: int, stream: int) -> np.random.Generator:
    """The random generator of one (seed, chunk, stream): independent of chunk order."""
    return np.random.default_rng(np.random.SeedSequence([seed, chunk, stream]))


def day(year: int, month: int = 1, dom: int = 1) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return int((np.datetime64(f"{year:04d}-{month:02d}-{dom:02d}", "D") - _EPOCH).astype(int))


def month_index(days: np.ndarray, start_year: int) -> np.ndarray:
    """Months since January of ``start_year`` for an array of day numbers."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months - (start_year - 1970) * 12


def month_start(month_idx: np.ndarray, start_year: int) -> np.ndarray:
    """First day (day number) of months counted from January of ``start_year``."""
    m = (np.asarray(month_idx, dtype=np.int64) + (start_year - 1970) * 12).astype("datetime64[M]")
    return m.astype("datetime64[D]").astype(np.int64)


def year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def date_array(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Arrow date32 from day numbers; ``valid`` False gives null."""
    arr = np.asarray(days, dtype=np.int32)
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(arr, type=pa.date32(), mask=mask)


def money_array(cents: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Exact decimal128(18, 2) from integer cents (two's-complement 128-bit buffers)."""
    c = np.asarray(cents, dtype=np.int64)
    buf = np.empty((len(c), 2), dtype=np.int64)
    buf[:, 0] = c
    buf[:, 1] = np.where(c < 0, -1, 0)
    arr = pa.Array.from_buffers(MONEY, len(c), [None, pa.py_buffer(buf.tobytes())])
    if valid is not None:
        arr = pc.if_else(pa.array(np.asarray(valid, dtype=bool)), arr, pa.scalar(None, MONEY))
    return arr


def str_array(values: np.ndarray) -> pa.Array:
    """Arrow string array from a numpy object array (None gives null)."""
    return pa.array(values, type=pa.string(), from_pandas=True)


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Identifiers like ``P0000001``: ``prefix`` + zero-padded number."""
    digits = pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()),
                          width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def npi_check_digit(base9: np.ndarray) -> np.ndarray:
    """Luhn check digit of NPIs (ISO 7812 with the 80840 prefix, CMS NPI standard)."""
    digits = np.stack([(base9 // 10 ** (8 - i)) % 10 for i in range(9)], axis=1)
    doubled = digits[:, 0::2] * 2
    total = 24 + (doubled // 10 + doubled % 10).sum(axis=1) + digits[:, 1::2].sum(axis=1)
    return (10 - total % 10) % 10


def weighted_pick(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with probability proportional to ``weights`` (vectorised)."""
    cum = np.cumsum(weights, dtype=np.float64)
    return np.searchsorted(cum, rng.random(size) * cum[-1], side="right").clip(0, len(cum) - 1)


def cents_round(x: np.ndarray) -> np.ndarray:
    return np.rint(x).astype(np.int64)
