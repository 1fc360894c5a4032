"""Mapping of canonical column types to Arrow and Ibis types (one place, used everywhere)."""

from __future__ import annotations

import ibis.expr.datatypes as dt
import pyarrow as pa

from valuecare.model.schema import MONEY_PRECISION, MONEY_SCALE, Column, Table

_ARROW = {
    "string": pa.string(),
    "date": pa.date32(),
    "int": pa.int64(),
    "decimal": pa.decimal128(MONEY_PRECISION, MONEY_SCALE),
    "double": pa.float64(),
    "bool": pa.bool_(),
}


def arrow_type(column: Column) -> pa.DataType:
    return _ARROW[column.dtype]


def arrow_schema(table: Table) -> pa.Schema:
    """The Arrow schema of a canonical table (every column nullable at storage level)."""
    return pa.schema([pa.field(c.name, arrow_type(c)) for c in table.columns])


def ibis_schema(table: Table) -> dt.Struct:
    import ibis

    return ibis.schema({c.name: dt.dtype(arrow_type(c)) for c in table.columns})
