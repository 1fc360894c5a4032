"""Fee-for-service baseline: what each provider is paid on its claims, per payer and year.

Under fee for service a provider's revenue is the **allowed** amount of the services it
bills (the payer's payment plus the patient's cost sharing); the payer spends the **paid**
amount and the patient the difference. :func:`ffs_revenue` sums both from the canonical
``medical_claim`` table:

- **Active claims only**: a reversal and the claim it reverses both drop out
  (:func:`valuecare.conditions.triggers.prepare_lines`' ``active`` flag), so a reversed
  claim earns nothing; adjustments (``adjustment_type`` other than ``reversal``) count as
  they are.
- **Provider**: the facility of institutional claims (``facility_npi``, else the billing
  NPI) and the billing NPI of professional claims -- who is paid for the claim.
- **Year**: the calendar year of the claim's through date (``claim_end_date``), as CMS
  assigns claims to performance years.

This is the baseline the payer-mix simulation (:mod:`valuecare.payment.simulate`)
departs from: under FFS a provider that cuts utilization loses this revenue, and the payer
and the patient keep the savings. Money stays ``decimal``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from valuecare.conditions.triggers import prepare_lines

MONEY = ibis.dtype("decimal(18, 2)")


def ffs_revenue(medical_claim: ir.Table) -> ir.Table:
    """Fee-for-service revenue per provider, payer and year.

    Returns ``provider_npi, claim_type, payer, year, claims, allowed, paid, patient_share``
    (``patient_share`` = allowed - paid: the patient's cost sharing), money as
    ``decimal(18, 2)``. ``claim_type`` separates a hospital's facility revenue from
    professional revenue billed under the same NPI.
    """
    lines = prepare_lines(medical_claim)
    lines = lines.filter(lines.active)
    provider = ibis.cases(
        (lines.claim_type == "institutional", lines.facility_npi),
        else_=lines.billing_npi)
    t = lines.mutate(provider_npi=provider, year=lines.claim_end_date.year().cast("int32"),
                     _allowed=lines.allowed_amount.fill_null(0).cast(MONEY),
                     _paid=lines.paid_amount.fill_null(0).cast(MONEY))
    out = t.group_by(["provider_npi", "claim_type", "payer", "year"]).aggregate(
        claims=t.claim_id.nunique(),
        allowed=t._allowed.sum().cast(MONEY),
        paid=t._paid.sum().cast(MONEY),
    )
    return out.mutate(patient_share=(out.allowed - out.paid).cast(MONEY)).order_by(
        ["provider_npi", "claim_type", "payer", "year"])
