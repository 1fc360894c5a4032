"""Claims summary: service categories, claim headers and PMPM by payer and service category.

Service categories follow the shape of the Tuva Project's service category grouper
(``service_category_1`` / ``service_category_2``, v0.18), simplified to the rules below;
institutional claims are classified by type of bill (UB-04 FL 4) and revenue code,
professional claims by place of service and CPT/HCPCS range:

==========================  ========================================================
inpatient / acute inpatient  bill type 11x or 12x; professional lines at POS 21
inpatient / skilled nursing  bill type 21x/22x/18x; professional lines at POS 31
outpatient / emergency dept  any line with revenue 045x or 0981 on an outpatient
                             (13x/85x) claim; professional lines at POS 23 or CPT
                             99281-99285
outpatient / ambulatory      bill type 83x; professional lines at POS 24
surgery
outpatient / outpatient      bill type 13x, 14x, 85x (no ED revenue)
hospital
outpatient / home health     bill type 32x-34x; POS 12 with home-health HCPCS G01xx/G02xx
outpatient / hospice         bill type 81x/82x
outpatient / dialysis        bill type 72x
office-based / office visit  professional E/M 99202-99215, G0438/G0439 (any other POS)
ancillary / lab              POS 81, or CPT 80000-89999
ancillary / imaging          CPT 70000-79999 (non-facility professional)
ancillary / durable medical  HCPCS E, K or L codes
equipment
ancillary / ambulance        POS 41/42 or HCPCS A0xxx
office-based / outpatient    CPT 97xxx (PT/OT)
rehabilitation
office-based / other         any other professional line
other / other                institutional claims with any other bill type
pharmacy / pharmacy          pharmacy claims
==========================  ========================================================

PMPM = net paid (or allowed) amount of claims starting in the year (every line of a claim
counts in the month of ``claim_start_date``, as in the Tuva Project's PMPM mart) ÷ member
months of that payer in the year, rounded half-up to the cent with exact decimal
arithmetic.  Reversals carry negated
amounts, so summing all lines nets them (DESIGN.md §4).  Claim lines whose member has no
enrollment with that payer in the service month are still counted in the payer's numerator
and reported as ``lines_without_enrollment``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import ibis
import pyarrow as pa

from valuecare.model.workspace import Run
from valuecare.pipeline.registry import Stage

CENT = Decimal("0.01")
MONEY = pa.decimal128(18, 2)


def _between(code: ibis.Value, lo: str, hi: str) -> ibis.Value:
    return (code.length() == 5) & (code >= lo) & (code <= hi)


def service_categories(claims: ibis.Table) -> ibis.Table:
    """Add ``service_category_1`` and ``service_category_2`` to medical claim lines."""
    c = claims
    rev = c.revenue_center_code.fill_null("")
    pos = c.place_of_service_code.fill_null("")
    hcpcs = c.hcpcs_code.fill_null("")
    ed_line = rev.startswith("045") | (rev == "0981")
    c = c.mutate(_ed_claim=ed_line.cast("int8").max().over(group_by=[c.claim_id,
                                                                     c.data_source]))
    bill2 = c.bill_type_code.substr(0, 2).fill_null("")
    inst = c.claim_type == "institutional"
    cat2 = ibis.cases(
        (inst & bill2.isin(["11", "12"]), "acute inpatient"),
        (inst & bill2.isin(["18", "21", "22"]), "skilled nursing"),
        (inst & bill2.isin(["13", "85"]) & (c._ed_claim == 1), "emergency department"),
        (inst & (bill2 == "83"), "ambulatory surgery"),
        (inst & bill2.isin(["13", "14", "85"]), "outpatient hospital"),
        (inst & bill2.isin(["32", "33", "34"]), "home health"),
        (inst & bill2.isin(["81", "82"]), "hospice"),
        (inst & (bill2 == "72"), "dialysis"),
        (inst, "other institutional"),
        (pos == "21", "acute inpatient"),
        (pos == "31", "skilled nursing"),
        ((pos == "23") | _between(hcpcs, "99281", "99285"), "emergency department"),
        (pos == "24", "ambulatory surgery"),
        (pos.isin(["41", "42"]) | hcpcs.startswith("A0"), "ambulance"),
        ((pos == "81") | _between(hcpcs, "80000", "89999"), "lab"),
        (_between(hcpcs, "70000", "79999"), "imaging"),
        (hcpcs.substr(0, 1).isin(["E", "K", "L"]), "durable medical equipment"),
        ((pos == "12") & (hcpcs.startswith("G01") | hcpcs.startswith("G02")), "home health"),
        (_between(hcpcs, "99202", "99215") | hcpcs.isin(["G0438", "G0439"]), "office visit"),
        (_between(hcpcs, "97000", "97799"), "outpatient rehabilitation"),
        else_="other professional",
    )
    c = c.mutate(service_category_2=cat2)
    cat1 = ibis.cases(
        (c.service_category_2.isin(["acute inpatient", "skilled nursing"]), "inpatient"),
        (c.service_category_2.isin(["emergency department", "ambulatory surgery",
                                    "outpatient hospital", "home health", "hospice",
                                    "dialysis"]), "outpatient"),
        (c.service_category_2.isin(["lab", "imaging", "durable medical equipment",
                                    "ambulance"]), "ancillary"),
        (c.service_category_2.isin(["office visit", "outpatient rehabilitation",
                                    "other professional"]), "office-based"),
        else_="other",
    )
    return c.mutate(service_category_1=cat1).drop("_ed_claim")


def claim_header(lines: ibis.Table) -> ibis.Table:
    """One row per medical claim: header fields, net amounts, lines, service category.

    The claim's category is that of its lowest-numbered line for professional claims and
    the claim-level category for institutional claims (the same on every line).
    """
    t = lines
    ranked = t.mutate(
        _first_line=t.claim_line_number.min().over(group_by=[t.claim_id, t.data_source])
    )
    first = ranked.filter(ranked.claim_line_number == ranked._first_line)
    head = first.select(
        "claim_id", "data_source", "claim_type", "person_id", "payer", "payer_type", "plan",
        "claim_start_date", "claim_end_date", "admission_date", "discharge_date",
        "discharge_disposition_code", "bill_type_code", "drg_code", "diagnosis_code_1",
        "billing_npi", "facility_npi", "rendering_npi", "adjustment_type",
        "original_claim_id", "service_category_1", "service_category_2",
    )
    sums = t.group_by(["claim_id", "data_source"]).aggregate(
        line_count=t.count(),
        charge_amount=t.charge_amount.sum().cast(MONEY),
        allowed_amount=t.allowed_amount.sum().cast(MONEY),
        paid_amount=t.paid_amount.sum().cast(MONEY),
    )
    return head.join(sums, ["claim_id", "data_source"])


def _header_stage(run: Run) -> dict[str, int]:
    lines = service_categories(run.table("medical_claim"))
    run.write("claim_header", claim_header(lines))
    return {"claims": run.row_counts["claim_header"]}


def spend_by_month(run: Run) -> ibis.Table:
    """Net paid and allowed by person, payer, payer type, service month and category.

    A claim without ``payer_type`` takes the payer type of the member's enrollment with
    that payer in the service month (the same payer name can sell Medicare Advantage and
    commercial plans, so payer alone is not enough).
    """
    med = service_categories(run.table("medical_claim"))
    svc_date = med.claim_start_date  # a claim's lines count in its start month (Tuva)
    med_agg = med.group_by(
        person_id=med.person_id, payer=med.payer, payer_type=med.payer_type,
        year_month=svc_date.strftime("%Y%m"),
        service_category_1=med.service_category_1, service_category_2=med.service_category_2,
    ).aggregate(paid=med.paid_amount.sum().cast(MONEY),
                allowed=med.allowed_amount.sum().cast(MONEY), lines=med.count())
    parts = [med_agg]
    if run.has_table("pharmacy_claim"):
        rx = run.table("pharmacy_claim")
        parts.append(rx.group_by(
            person_id=rx.person_id, payer=rx.payer, payer_type=rx.payer_type,
            year_month=rx.dispensing_date.strftime("%Y%m"),
            service_category_1=ibis.literal("pharmacy"),
            service_category_2=ibis.literal("pharmacy"),
        ).aggregate(paid=rx.paid_amount.sum().cast(MONEY),
                    allowed=rx.allowed_amount.sum().cast(MONEY), lines=rx.count()))
    spend = ibis.union(*parts) if len(parts) > 1 else parts[0]
    mm = run.table("member_months")
    enrolled = mm.group_by(["person_id", "payer", "year_month"]).aggregate(
        _enrolled_type=mm.payer_type.min())
    joined = spend.left_join(enrolled, ["person_id", "payer", "year_month"])
    return joined.select(
        "person_id", "payer", "year_month", "service_category_1", "service_category_2",
        "paid", "allowed", "lines",
        payer_type=joined.payer_type.fill_null(joined._enrolled_type),
        enrolled=joined._enrolled_type.notnull(),
    )


def pmpm_table(spend: ibis.Table, member_months: ibis.Table) -> pa.Table:
    """PMPM by year, payer, payer type and service category, in exact decimals.

    The engine aggregates (sums of decimals, counts of months); the division and rounding
    happen here in Python ``Decimal`` so every engine gives the same cents.
    """
    mm = member_months
    months = mm.group_by(["year", "payer", "payer_type"]).aggregate(
        member_months=mm.count()).to_pyarrow().to_pylist()
    mm_by = {(r["year"], r["payer"], r["payer_type"]): int(r["member_months"])
             for r in months}
    s = spend.mutate(year=spend.year_month.substr(0, 4).cast("int32"))
    agg = s.group_by(["year", "payer", "payer_type", "service_category_1",
                      "service_category_2"]).aggregate(
        paid=s.paid.sum().cast(MONEY), allowed=s.allowed.sum().cast(MONEY),
        lines=s.lines.sum()).to_pyarrow().to_pylist()
    rows: dict[tuple, dict] = {}
    for r in agg:
        key = (int(r["year"]), r["payer"], r["payer_type"], r["service_category_1"],
               r["service_category_2"])
        rows[key] = r
    out: dict[str, list] = defaultdict(list)
    for key in sorted(rows, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        year, payer, ptype, c1, c2 = key
        r = rows[key]
        months_n = mm_by.get((year, payer, ptype), 0)
        paid = Decimal(r["paid"] or 0).quantize(CENT)
        allowed = Decimal(r["allowed"] or 0).quantize(CENT)
        out["year"].append(year)
        out["payer"].append(payer)
        out["payer_type"].append(ptype)
        out["service_category_1"].append(c1)
        out["service_category_2"].append(c2)
        out["member_months"].append(months_n)
        out["claim_lines"].append(int(r["lines"]))
        out["paid_amount"].append(paid)
        out["allowed_amount"].append(allowed)
        out["pmpm_paid"].append((paid / months_n).quantize(CENT, ROUND_HALF_UP)
                                if months_n else None)
        out["pmpm_allowed"].append((allowed / months_n).quantize(CENT, ROUND_HALF_UP)
                                   if months_n else None)
    return pa.table(
        {
            "year": pa.array(out["year"], pa.int32()),
            "payer": pa.array(out["payer"], pa.string()),
            "payer_type": pa.array(out["payer_type"], pa.string()),
            "service_category_1": pa.array(out["service_category_1"], pa.string()),
            "service_category_2": pa.array(out["service_category_2"], pa.string()),
            "member_months": pa.array(out["member_months"], pa.int64()),
            "claim_lines": pa.array(out["claim_lines"], pa.int64()),
            "paid_amount": pa.array(out["paid_amount"], MONEY),
            "allowed_amount": pa.array(out["allowed_amount"], MONEY),
            "pmpm_paid": pa.array(out["pmpm_paid"], MONEY),
            "pmpm_allowed": pa.array(out["pmpm_allowed"], MONEY),
        }
    )


def _pmpm_stage(run: Run) -> dict[str, int]:
    spend = spend_by_month(run)
    mm = run.table("member_months")
    run.write("pmpm", pmpm_table(spend, mm))
    n = spend.filter(~spend.enrolled).lines.sum().to_pyarrow().as_py()
    return {"lines_without_enrollment": int(n or 0)}


HEADER_STAGE = Stage(
    name="claim_header",
    needs=("medical_claim",),
    writes=("claim_header",),
    func=_header_stage,
    description="One row per medical claim with net amounts and its service category.",
)

PMPM_STAGE = Stage(
    name="pmpm",
    needs=("medical_claim", "member_months"),
    writes=("pmpm",),
    func=_pmpm_stage,
    description="PMPM paid and allowed by year, payer and service category.",
)
