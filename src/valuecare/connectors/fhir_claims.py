"""FHIR Claim and ExplanationOfBenefit → ``medical_claim`` / ``pharmacy_claim`` lines.

*Grain.* One canonical line per ``Claim.item`` (in ``sequence`` order, numbered 1..n).
The claim's money sits on line 1 and every other line carries 0.00: Synthea's item
``net`` values do not add up to ``Claim.total`` (they are the adjudicated line charges of
procedures, not the encounter's bill), so the only line grain whose lines sum exactly to
``Claim.total`` is "header amounts on the first line".  The other lines keep their codes
(CPT/HCPCS via the crosswalk), dates and place of service.

*Money.*  ``charge_amount`` = ``Claim.total`` (exact, at most two decimals, else
``bad_amount``).  ``paid_amount`` = the matching EOB's ``payment.amount`` (else the sum of
its item adjudications ``benefit``/``payment``/BB ``line_prvdr_pmt_amt``);
``allowed_amount`` = EOB ``total`` ``eligible`` (else the sum of item adjudications
``eligible``/BB ``line_alowd_chrg_amt``, else the paid amount, so |paid| <= |allowed|).
Synthea writes EOB adjudications as binary floats printed in full
(``1575.7040000000002``): they are summed exactly as written and rounded half-up to the
cent once.  A Claim without an EOB is unadjudicated: paid and allowed 0.00.

*Claim ↔ EOB.*  An EOB whose ``claim`` resolves to a Claim in the input adds its amounts
to that Claim's lines and gives no row of its own (so nothing is counted twice); an EOB
with no Claim in the input (Blue Button, BCDA) is mapped as a claim by itself.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from valuecare.connectors import synthea_vocab as vocab
from valuecare.connectors.base import CENT, money
from valuecare.connectors.crosswalk import hcpcs_for, icd10cm_for
from valuecare.connectors.fhir_clinical import (
    DATA_SOURCE,
    Ctx,
    Quarantine,
    Rows,
    day,
    person,
)
from valuecare.connectors.fhir_index import codings, key_of, system_name

_PAID = ("benefit", "payment", "line_prvdr_pmt_amt", "line_nch_pmt_amt")
_ALLOWED = ("eligible", "line_alowd_chrg_amt")
_SUBMITTED = ("submitted", "line_sbmtd_chrg_amt")
_COINSURANCE = ("coinsurance", "line_coinsrnc_amt")
_DEDUCTIBLE = ("deductible", "line_bene_ptb_ddctbl_amt")
_COPAY = ("copay",)
_CLAIM_TYPES = {"professional": "professional", "institutional": "institutional",
                "oral": "professional", "vision": "professional"}


def _cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _category(adj: dict[str, Any]) -> str:
    cc = codings(adj.get("category"))
    return cc[0][1].rsplit("/", 1)[-1] if cc else ""


def _sum(entries: list[dict[str, Any]], names: tuple[str, ...]) -> Decimal | None:
    found = [e["amount"]["value"] for e in entries
             if _category(e) in names and (e.get("amount") or {}).get("value") is not None]
    return _cents(sum((Decimal(str(v)) for v in found), Decimal(0))) if found else None


def _adjudications(eob: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for it in eob.get("item") or [] for a in it.get("adjudication") or []]


def eob_amounts(eob: dict[str, Any] | None) -> dict[str, Decimal | None]:
    """paid, allowed, coinsurance, deductible, copayment of an EOB (see module doc)."""
    if eob is None:
        return {"paid_amount": Decimal("0.00"), "allowed_amount": Decimal("0.00")}
    adj = _adjudications(eob)
    totals = eob.get("total") or []
    pay = ((eob.get("payment") or {}).get("amount") or {}).get("value")
    paid = _cents(pay) if pay is not None else (_sum(totals, _PAID) or _sum(adj, _PAID)
                                                or Decimal("0.00"))
    allowed = _sum(totals, _ALLOWED) or _sum(adj, _ALLOWED) or paid
    return {"paid_amount": paid, "allowed_amount": allowed,
            "coinsurance_amount": _sum(adj, _COINSURANCE),
            "deductible_amount": _sum(adj, _DEDUCTIBLE),
            "copayment_amount": _sum(adj, _COPAY)}


def _charge(header: dict[str, Any], is_eob: bool) -> Decimal:
    """Claim.total (or EOB total ``submitted``), exact; else quarantine."""
    if is_eob:
        total = _sum(header.get("total") or [], _SUBMITTED)
        if total is None:
            total = _sum(_adjudications(header), _SUBMITTED)
        if total is None:
            raise Quarantine("missing_amount", "total", None, "EOB has no submitted total")
        return total
    value = (header.get("total") or {}).get("value")
    if value is None:
        raise Quarantine("missing_amount", "total", None, "Claim.total is missing")
    try:
        charge = money(value)
    except ValueError as exc:
        raise Quarantine("bad_amount", "total", value, str(exc)) from exc
    if charge is None:
        raise Quarantine("missing_amount", "total", None, "Claim.total is empty")
    return charge


def _diagnoses(header: dict[str, Any], ctx: Ctx) -> tuple[list[str], str | None]:
    """ICD-10-CM codes of the claim (mapped, de-duplicated, in order) and the first
    source code seen; diagnoses are Claim.diagnosis (sequence order), else the reason
    codes (else type codes) of the encounters the items bill."""
    candidates: list[tuple[str, str, str | None]] = []
    for d in sorted(header.get("diagnosis") or [], key=lambda d: d.get("sequence") or 0):
        if d.get("diagnosisCodeableConcept"):
            candidates += codings(d["diagnosisCodeableConcept"])
        else:
            candidates += ctx.index.conditions.get(ctx.index.resolve(
                d.get("diagnosisReference")) or "", [])
    if not candidates:
        for item in header.get("item") or []:
            for enc in item.get("encounter") or []:
                candidates += ctx.index.encounter_codes.get(ctx.index.resolve(enc) or "", [])
    mapped: list[str] = []
    for uri, code, _ in candidates:
        icd = icd10cm_for(uri, code)
        if icd and icd not in mapped:
            mapped.append(icd)
    return mapped[:25], (candidates[0][1] if candidates else None)


def _payer(header: dict[str, Any], eob: dict[str, Any] | None) -> str | None:
    ins = header.get("insurance") or []
    focal = next((i for i in ins if i.get("focal")), ins[0] if ins else None)
    name = ((focal or {}).get("coverage") or {}).get("display")
    if not name and eob is not None:
        name = (eob.get("insurer") or {}).get("display")
    if not name:
        name = (header.get("insurer") or {}).get("display")
    return str(name) if name else None


def _pos(item: dict[str, Any] | None) -> str | None:
    for uri, code, _ in codings((item or {}).get("locationCodeableConcept")):
        if uri.endswith("ex-serviceplace") or uri.endswith("CMS-POS"):
            return code if len(code) == 2 and code.isdigit() else None
    return None


def _item_dates(item: dict[str, Any] | None) -> tuple[str | None, str | None]:
    if not item:
        return None, None
    if item.get("servicedDate"):
        return day(item["servicedDate"]), day(item["servicedDate"])
    sp = item.get("servicedPeriod") or {}
    return day(sp.get("start")), day(sp.get("end"))


def _units(item: dict[str, Any]) -> int | None:
    v = (item.get("quantity") or {}).get("value")
    return int(v) if v is not None and Decimal(str(v)) == int(v) else None


def claim_kind(header: dict[str, Any]) -> str:
    cc = codings(header.get("type"))
    return cc[0][1] if cc else ""


def map_claim(header: dict[str, Any], ctx: Ctx, eob: dict[str, Any] | None,
              is_eob: bool = False) -> Rows:
    """Lines of one claim; ``header`` is the Claim (or a lone EOB when ``is_eob``)."""
    kind = claim_kind(header)
    table = "pharmacy_claim" if kind == "pharmacy" else "medical_claim"
    charge: Decimal | None = None
    amounts: dict[str, Decimal | None] = {}
    try:
        charge = _charge(header, is_eob)
        amounts = eob_amounts(eob if not is_eob else header)
        amounts["charge_amount"] = charge
        pid = person(header, ctx, "patient")
        payer = _payer(header, eob)
        if payer is None:
            raise Quarantine("missing_payer", "insurance", None, "the claim names no payer")
        if table == "pharmacy_claim":
            return _pharmacy(header, ctx, eob, pid, payer, amounts)
        return _medical(header, ctx, eob, pid, payer, amounts, kind, is_eob)
    except Quarantine as q:
        q.table = table
        q.amounts = {k: amounts.get(k) for k in ("charge_amount", "allowed_amount",
                                                 "paid_amount")} if charge else None
        raise


def _medical(header: dict[str, Any], ctx: Ctx, eob: dict[str, Any] | None, pid: str,
             payer: str, amounts: dict[str, Decimal | None], kind: str,
             is_eob: bool) -> Rows:
    dx, first_source = _diagnoses(header, ctx)
    if not dx:
        if first_source is None:
            raise Quarantine("missing_diagnosis", "diagnosis", None,
                             "the claim has no diagnosis and its encounter no reason code")
        raise Quarantine("unmapped_code", "diagnosis", first_source,
                         "no diagnosis of the claim has an ICD-10-CM crosswalk row")
    bp = header.get("billablePeriod") or {}
    eob_items = {it.get("sequence"): it for it in (eob or header).get("item") or []}
    items = sorted(header.get("item") or [{}], key=lambda i: i.get("sequence") or 0)
    start, end = day(bp.get("start")), day(bp.get("end"))
    if is_eob:  # an EOB's billablePeriod may be the coverage period: use service dates
        dates = [d for it in items for d in _item_dates(it) if d]
        start, end = (min(dates), max(dates)) if dates else (start, end)
    end = end or start
    ctype = _CLAIM_TYPES.get(kind, "undetermined")
    rendering = None
    for src in (eob, header):
        if src is None:
            continue
        for ct in src.get("careTeam") or []:
            rendering = rendering or ctx.index.npi_of(ct.get("provider"))
        rendering = rendering or ctx.index.npi_of(src.get("provider"))
    paid_date = day(((eob or {}).get("payment") or {}).get("date"))
    header_row: dict[str, Any] = {
        "claim_id": str(header["id"]), "claim_type": ctype, "person_id": pid,
        "payer": payer, "payer_type": vocab.payer_type(payer), "plan": payer,
        "claim_start_date": start, "claim_end_date": end,
        "rendering_npi": rendering, "billing_npi": ctx.index.npi_of(header.get("provider")),
        "facility_npi": ctx.index.npi_of(header.get("facility")), "paid_date": paid_date,
        "diagnosis_code_type": "icd-10-cm",
        **{f"diagnosis_code_{i}": c for i, c in enumerate(dx, start=1)},
        "adjustment_type": "original", "data_source": DATA_SOURCE, "file_name": ctx.file}
    rows: Rows = []
    zero = Decimal("0.00")
    for n, item in enumerate(items, start=1):
        eitem = eob_items.get(item.get("sequence"), item)
        product = codings(item.get("productOrService"))
        hcpcs = next((h for uri, code, _ in product if (h := hcpcs_for(uri, code))), None)
        lstart, lend = _item_dates(eitem)
        money_cols = amounts if n == 1 else {
            "charge_amount": zero, "allowed_amount": zero, "paid_amount": zero}
        rows.append(("medical_claim", {
            **header_row, "claim_line_number": n, "hcpcs_code": hcpcs,
            "claim_line_start_date": lstart, "claim_line_end_date": lend,
            "place_of_service_code": _pos(eitem) if ctype == "professional" else None,
            "service_unit_quantity": _units(item), **money_cols}))
    return rows


def _pharmacy(header: dict[str, Any], ctx: Ctx, eob: dict[str, Any] | None, pid: str,
              payer: str, amounts: dict[str, Decimal | None]) -> Rows:
    items = sorted(header.get("item") or [], key=lambda i: i.get("sequence") or 0)
    ndcs = [next((code for uri, code, _ in codings(it.get("productOrService"))
                  if system_name(uri) == "ndc"), None) for it in items]
    if not items or not all(ndcs):
        first = next((c for it in items for _, c, _ in codings(it.get("productOrService"))),
                     None)
        raise Quarantine("unmapped_code", "item.productOrService", first,
                         "pharmacy claim item without an NDC (pharmacy_claim needs one)")
    ndc11 = [n.replace("-", "") if n else None for n in ndcs]
    if not all(n and len(n) == 11 and n.isdigit() for n in ndc11):
        raise Quarantine("bad_code_format", "item.productOrService", ndcs[0],
                         "NDC is not 11 digits")
    bp = header.get("billablePeriod") or {}
    zero = Decimal("0.00")
    rows: Rows = []
    for n, (item, ndc) in enumerate(zip(items, ndc11, strict=True), start=1):
        qty = (item.get("quantity") or {}).get("value")
        money_cols = amounts if n == 1 else {
            "charge_amount": zero, "allowed_amount": zero, "paid_amount": zero}
        rows.append(("pharmacy_claim", {
            "claim_id": str(header["id"]), "claim_line_number": n, "person_id": pid,
            "payer": payer, "payer_type": vocab.payer_type(payer), "plan": payer,
            "prescribing_provider_npi": ctx.index.npi_of((eob or header).get("provider")),
            "dispensing_date": day(bp.get("start")) or _item_dates(item)[0],
            "ndc_code": ndc, "quantity": int(qty) if qty is not None and qty == int(qty)
            else None,
            "paid_date": day(((eob or {}).get("payment") or {}).get("date")),
            **money_cols,
            "adjustment_type": "original", "data_source": DATA_SOURCE,
            "file_name": ctx.file}))
    return rows


def map_eob(eob: dict[str, Any], ctx: Ctx, position: tuple[str, int]) -> Rows:
    """An EOB of a Claim in the input gives no row (its amounts are on the Claim's
    lines); a second EOB of the same Claim is ``duplicate_eob``; a lone EOB is a claim."""
    claim = ctx.index.resolve(eob.get("claim"))
    if claim is not None and claim.startswith("Claim/"):
        if ctx.index.eob_of_claim.get(claim) != position:
            raise Quarantine("duplicate_eob", "claim", claim.split("/", 1)[1],
                             "another ExplanationOfBenefit of this Claim was used")
        return []
    named = ctx.index.resolve(eob.get("claim"), valid_only=False)
    if named is not None and named.startswith("Claim/"):
        raise Quarantine("missing_reference", "claim", named.split("/", 1)[1],
                         "its Claim is in the input but failed validation")
    return map_claim(eob, ctx, None, is_eob=True)


def eob_for(claim: dict[str, Any], ctx: Ctx) -> dict[str, Any] | None:
    key = key_of(claim)
    pos = ctx.index.eob_of_claim.get(key or "")
    return ctx.index.eobs.get(pos) if pos is not None else None
