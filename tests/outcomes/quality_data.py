"""Hand-built canonical tables for the quality-measure tests (see test_quality.py).

Every member is built for one case; person ids say the measure (D = CMS122 diabetes,
H = CMS165 hypertension, B = CMS125 breast, C = CMS130 colorectal, S = CMS2 screening,
P = payer / provider attribution).  The measurement period is calendar 2024.
"""

from __future__ import annotations

from itertools import count
from typing import Any

import pyarrow as pa

from valuecare.model.schema import ELIGIBILITY, MEDICAL_CLAIM, MEMBER, OBSERVATION, PHARMACY_CLAIM
from valuecare.model.types import arrow_schema

NPI_A, NPI_B, NPI_C = "1000000001", "1000000002", "1000000003"
VISIT = "99213"


class Data:
    """Rows of member, eligibility, medical_claim, observation and pharmacy_claim."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {
            "member": [], "eligibility": [], "medical_claim": [], "observation": [],
            "pharmacy_claim": []}
        self._ids = count(1)

    # --- members and enrollment ---------------------------------------------------------
    def member(self, pid: str, birth: str, sex: str = "female", *, death: str | None = None,
               payer: str = "Medicare", enrolled: bool = True, **flags: int) -> str:
        self.rows["member"].append(dict(person_id=pid, sex=sex, birth_date=birth,
                                        death_date=death, data_source="test"))
        if enrolled:
            self.enroll(pid, payer, "2023-01-01", "2024-12-31", **flags)
        return pid

    def enroll(self, pid: str, payer: str, start: str, end: str, **flags: int) -> None:
        self.rows["eligibility"].append(dict(
            person_id=pid, payer=payer, payer_type="medicare", plan=f"{payer} plan",
            enrollment_start_date=start, enrollment_end_date=end, data_source="test",
            **flags))

    # --- claims ---------------------------------------------------------------------------
    def claim(self, pid: str, day: str, hcpcs: str | None = None, dx: tuple[str, ...] = (),
              *, px: tuple[str, ...] = (), npi: str | None = NPI_A, pos: str | None = "11",
              inst: bool = False, bill: str | None = None, rev: str | None = None,
              mods: tuple[str, ...] = (), end: str | None = None, disp: str | None = None,
              claim_id: str | None = None, adj: str = "original",
              orig: str | None = None) -> str:
        cid = claim_id or f"{pid}-C{next(self._ids)}"
        dx = dx or ("Z0000",)
        row: dict[str, Any] = dict(
            claim_id=cid, claim_line_number=1,
            claim_type="institutional" if inst else "professional", person_id=pid,
            payer="Medicare", claim_start_date=day, claim_end_date=end or day,
            place_of_service_code=None if inst else pos, bill_type_code=bill,
            revenue_center_code=rev, hcpcs_code=hcpcs, rendering_npi=None if inst else npi,
            billing_npi=npi or NPI_C, facility_npi=NPI_C if inst else None,
            discharge_disposition_code=disp, charge_amount="100.00", allowed_amount="80.00",
            paid_amount="60.00", adjustment_type=adj, original_claim_id=orig,
            data_source="test")
        if inst and bill and bill.startswith("11"):
            row.update(admission_date=day, discharge_date=end or day)
        for i, code in enumerate(dx, 1):
            row[f"diagnosis_code_{i}"] = code
        for i, code in enumerate(px, 1):
            row[f"procedure_code_{i}"] = code
        for i, code in enumerate(mods, 1):
            row[f"hcpcs_modifier_{i}"] = code
        self.rows["medical_claim"].append(row)
        return cid

    def reverse(self, cid: str) -> str:
        """A reversal of claim ``cid`` (negated amounts, same codes and dates)."""
        orig = next(r for r in self.rows["medical_claim"] if r["claim_id"] == cid)
        rev = dict(orig, claim_id=f"{cid}-R", adjustment_type="reversal", original_claim_id=cid,
                   charge_amount="-100.00", allowed_amount="-80.00", paid_amount="-60.00")
        self.rows["medical_claim"].append(rev)
        return rev["claim_id"]

    def replace(self, cid: str) -> str:
        """An adjustment replacing the reversed claim ``cid``."""
        orig = next(r for r in self.rows["medical_claim"] if r["claim_id"] == cid)
        adj = dict(orig, claim_id=f"{cid}-A", adjustment_type="adjustment",
                   original_claim_id=cid)
        self.rows["medical_claim"].append(adj)
        return adj["claim_id"]

    def visit(self, pid: str, day: str, dx: tuple[str, ...] = (), npi: str = NPI_A,
              hcpcs: str = VISIT) -> str:
        return self.claim(pid, day, hcpcs, dx, npi=npi)

    # --- observations and pharmacy ----------------------------------------------------------
    def obs(self, pid: str, day: str, loinc: str, value: float | None = None,
            result: str | None = None, enc: str | None = None, otype: str = "lab") -> None:
        self.rows["observation"].append(dict(
            observation_id=f"O{next(self._ids)}", person_id=pid, encounter_id=enc,
            observation_date=day, observation_type=otype, source_code_type="loinc",
            source_code=loinc,
            result=result if result is not None else (None if value is None else str(value)),
            result_numeric=value, data_source="test"))

    def bp(self, pid: str, day: str, sys: float, dia: float, enc: str | None = None) -> None:
        self.obs(pid, day, "8480-6", sys, enc=enc, otype="vital")
        self.obs(pid, day, "8462-4", dia, enc=enc, otype="vital")

    def rx(self, pid: str, day: str, drug_class: str) -> None:
        self.rows["pharmacy_claim"].append(dict(
            claim_id=f"RX{next(self._ids)}", claim_line_number=1, person_id=pid,
            payer="Medicare", dispensing_date=day, ndc_code="00000000000",
            drug_class=drug_class, days_supply=30, allowed_amount="10.00",
            paid_amount="8.00", adjustment_type="original", data_source="test"))

    # --- output ---------------------------------------------------------------------------
    def arrow(self) -> dict[str, pa.Table]:
        schemas = {"member": MEMBER, "eligibility": ELIGIBILITY, "medical_claim": MEDICAL_CLAIM,
                   "observation": OBSERVATION, "pharmacy_claim": PHARMACY_CLAIM}
        out = {}
        for name, table in schemas.items():
            schema = arrow_schema(table)
            rows = self.rows[name]
            cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
            out[name] = pa.table({k: _array(v, schema.field(k).type) for k, v in cols.items()},
                                 schema=schema)
        return out


def _array(values: list[Any], typ: pa.DataType) -> pa.Array:
    from datetime import date
    from decimal import Decimal

    if pa.types.is_date(typ):
        values = [None if v is None else date.fromisoformat(v) for v in values]
    elif pa.types.is_decimal(typ):
        values = [None if v is None else Decimal(v) for v in values]
    return pa.array(values, type=typ)
