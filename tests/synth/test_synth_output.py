"""Shape of the output: config validation, determinism, schema, chunking, integrity."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from valuecare.errors import InvalidInput
from valuecare.model.schema import TABLES
from valuecare.model.types import arrow_schema
from valuecare.synth import SynthConfig, generate

CANONICAL = ("member", "eligibility", "provider", "medical_claim", "pharmacy_claim",
             "observation", "death")


@pytest.mark.parametrize("kwargs", [
    {"members": 0}, {"years": 0}, {"years": 11}, {"chunk_size": 0}, {"fmt": "xlsx"},
    {"members": 2.5},
])
def test_invalid_config_is_refused(kwargs: dict[str, object]) -> None:
    """The brief: members >= 1 and 1 <= years <= 10; other fields must be sane."""
    with pytest.raises(InvalidInput):
        SynthConfig(**kwargs)  # type: ignore[arg-type]


def test_dirty_forces_csv() -> None:
    """The brief: dirty=True forces fmt='csv' (faults are text-level)."""
    assert SynthConfig(members=10, dirty=True, fmt="parquet").fmt == "csv"


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    """Determinism: two runs of one config write byte-identical files (all of them)."""
    cfg = SynthConfig(members=400, years=2, seed=3, chunk_size=250)
    generate(cfg, out=tmp_path / "a")
    generate(cfg, out=tmp_path / "b")
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b
    assert len(a) >= 7 * 2 + 4


def test_other_seed_gives_other_data(tmp_path: Path) -> None:
    """A different seed must change the members and the claims."""
    generate(SynthConfig(members=300, years=1, seed=1), out=tmp_path / "a")
    generate(SynthConfig(members=300, years=1, seed=2), out=tmp_path / "b")
    for t in ("member", "medical_claim"):
        ta = pq.read_table(tmp_path / "a" / t)
        tb = pq.read_table(tmp_path / "b" / t)
        assert not ta.equals(tb), t


@pytest.mark.parametrize("table", CANONICAL)
def test_parquet_parts_have_the_canonical_schema(pop3000: Path, table: str) -> None:
    """Each part must carry exactly valuecare.model.types.arrow_schema(table)."""
    parts = sorted((pop3000 / table).glob("part-*.parquet"))
    assert parts
    for p in parts:
        assert pq.read_schema(p).remove_metadata() == arrow_schema(TABLES[table])


@pytest.mark.parametrize("table", CANONICAL)
def test_values_follow_the_schema_rules(pop3000: Path, table: str) -> None:
    """Patterns, closed vocabularies and required columns of schema.py hold on every row;
    data_source is valuecare_synth and file_name is left for the loader."""
    t = pq.read_table(pop3000 / table)
    assert t.num_rows > 0
    spec = TABLES[table]
    for col in spec.columns:
        values = t.column(col.name).to_pylist()
        present = [v for v in values if v is not None]
        if col.required:
            assert len(present) == len(values), f"{table}.{col.name} has nulls"
        if col.name == "file_name":
            assert not present
        if col.name == "data_source":
            assert set(present) == {"valuecare_synth"}
        if col.pattern and present:
            rx = re.compile(col.pattern)
            bad = {v for v in set(present) if not rx.match(str(v))}
            assert not bad, f"{table}.{col.name}: {sorted(bad)[:5]}"
        if col.allowed and present:
            bad = {str(v) for v in set(present)} - set(col.allowed)
            assert not bad, f"{table}.{col.name}: {sorted(bad)[:5]}"


def test_referential_integrity(con: duckdb.DuckDBPyConnection) -> None:
    """Every person in claims/eligibility/observations is a member; every NPI a provider;
    claim lines are unique on the primary key."""
    for t in ("eligibility", "medical_claim", "pharmacy_claim", "observation", "death"):
        n = con.execute(f"select count(*) from {t} where person_id not in "
                    "(select person_id from member)").fetchone()[0]
        assert n == 0, t
    for col in ("rendering_npi", "billing_npi", "facility_npi"):
        n = con.execute(f"select count(*) from medical_claim where {col} is not null and {col} "
                    "not in (select npi from provider)").fetchone()[0]
        assert n == 0, col
    dup = con.execute("select count(*) - count(distinct (claim_id, claim_line_number)) "
                  "from medical_claim").fetchone()[0]
    assert dup == 0


def test_npis_have_valid_luhn_check_digit(pop3000: Path) -> None:
    """CMS NPI standard: Luhn over '80840' + the first 9 digits gives the 10th digit."""
    def ok(npi: str) -> bool:
        digits = [int(c) for c in "80840" + npi]
        total = 0
        for i, d in enumerate(reversed(digits)):
            if i % 2 == 1:
                d *= 2
                d = d - 9 if d > 9 else d
            total += d
        return total % 10 == 0
    npis = pq.read_table(pop3000 / "provider").column("npi").to_pylist()
    assert all(ok(n) for n in npis)
    assert len(set(npis)) == len(npis)


def test_chunked_generation_writes_several_parts(tmp_path: Path) -> None:
    """chunk_size < members: one part per chunk per table; ids stay unique across parts."""
    summary = generate(SynthConfig(members=1200, years=1, seed=5, chunk_size=500),
                       out=tmp_path)
    for t in ("member", "eligibility", "medical_claim", "pharmacy_claim", "observation",
              "death"):
        parts = sorted(p.name for p in (tmp_path / t).iterdir())
        assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"], t
    members = pq.read_table(tmp_path / "member").column("person_id").to_pylist()
    assert len(members) == len(set(members)) == 1200
    mc = pq.read_table(tmp_path / "medical_claim", columns=["claim_id", "claim_line_number"])
    keys = list(zip(mc.column(0).to_pylist(), mc.column(1).to_pylist(), strict=True))
    assert len(keys) == len(set(keys))
    assert summary["rows"]["member"] == 1200


def test_manifest_totals_equal_written_files(pop3000: Path) -> None:
    """The manifest's money totals are exact (integer cents) sums of what was written."""
    import json
    man = json.loads((pop3000 / "manifest.json").read_text())
    c = duckdb.connect()
    for t in ("medical_claim", "pharmacy_claim"):
        for col, text in man["tables"][t]["money"].items():
            total = c.execute(f"select coalesce(sum({col}), 0)::varchar from "
                          f"read_parquet('{pop3000}/{t}/*.parquet')").fetchone()[0]
            assert f"{float(total):.2f}" == f"{float(text):.2f}" and \
                total.split(".")[0] == text.split(".")[0], (t, col)
        rows = c.execute(f"select count(*) from read_parquet('{pop3000}/{t}/*.parquet')"
                     ).fetchone()[0]
        assert man["tables"][t]["rows"] == rows
