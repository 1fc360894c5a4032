"""Contract inputs from the workspace: the CSVs ``valuecare settle`` reads, built from the
pipeline's results (``valuecare settle inputs KIND --year Y --out FILE.csv``).

A contract team settles on files it can inspect and sign off, so the settlement commands
read CSVs; this module writes those CSVs from what the pipeline measured, so nothing is
typed by hand:

- **measures** (P4P and PCMH ``--measures``): ``entity, measure, numerator, denominator``
  from ``measure_results`` for the calendar year and entity type (clinician, facility,
  payer, overall); by default the eCQMs and the claims-based quality measures
  (``READMIT_30D``), or the measures named (proportions only). The denominator is the
  *performance* denominator (denominator minus exclusions and exceptions, CMS eCQM rule),
  the numerator the members meeting the measure.
- **entities** (capitation, PCMH practices, P4P ``--entities``): per attributed primary-care
  clinician (``attribution``, MSSP-style plurality of primary-care allowed amounts):
  ``member_months`` of its attributed members in the year (``member_months``, optionally one
  payer type), ``avg_risk_score`` (member-month-weighted CMS-HCC score of the payment year
  = the year settled; the payment score where normalized, else the raw score; V28 where
  scored, else V24; members without a score do not enter the average and are counted in
  ``unscored_member_months``), ``actual_cost`` (net paid of the attributed members' medical
  and pharmacy claims that start in the year, reversals included so sums are net) and
  ``ffs_revenue`` (allowed amount the clinician billed in the year,
  :func:`valuecare.payment.ffs.ffs_revenue`).
- **episodes** (bundles): one row per acute episode of a condition whose anchor starts in
  the year: ``episode_id`` (the cycle id), ``provider`` (the episode's facility, the CJR
  participant hospital; the accountable clinician when there is no facility),
  ``episode_type`` (the condition), ``target_price`` and ``actual_spend`` (net paid of the
  episode's services). The target price is priced from the base years' episodes of the same
  condition with :func:`valuecare.payment.bundle_price.price_bundle` (mean or a percentile,
  trend, discount; the contract's reconciliation applies its own discount on top, so the
  default discount here is 0).

Money is exact: sums are ``decimal(18, 2)`` in the engine and Decimals in Python.
MSSP inputs are not built here: an ACO's benchmark needs CMS's assignment, enrollment-type
expenditures and regional trend, which a claims extract does not hold (see
docs/payment-models.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

import ibis
import ibis.expr.types as ir

from valuecare.errors import InvalidInput
from valuecare.model.workspace import Workspace
from valuecare.payment.bundle_price import PricingTerms, price_bundle
from valuecare.payment.ffs import ffs_revenue

MONEY = ibis.dtype("decimal(18, 2)")
ZERO = Decimal(0)
ENTITY_TYPES = ("clinician", "facility", "payer", "overall")


def _need(ws: Workspace, *tables: str) -> None:
    missing = [t for t in tables if not ws.has_table(t)]
    if missing:
        raise InvalidInput(f"the workspace has no {', '.join(missing)} table yet: run "
                           "`valuecare run` first")


def measure_rows(ws: Workspace, year: int,
                 entity_type: Literal["clinician", "facility", "payer", "overall"] = "clinician",
                 measures: Sequence[str] | None = None) -> list[dict[str, str]]:
    """``entity, measure, numerator, denominator`` for P4P and PCMH settlements."""
    if entity_type not in ENTITY_TYPES:
        raise InvalidInput(f"entity type {entity_type!r}: use one of {', '.join(ENTITY_TYPES)}")
    _need(ws, "measure_results")
    mr = ws.table("measure_results")
    t = mr.filter((mr.entity_type == entity_type) & (mr.period_start.year() == year)
                  & (mr.period_end.year() == year) & mr.performance_denominator.notnull()
                  & mr.mean_value.isnull())  # proportions only: a mean has no numerator
    if measures:
        t = t.filter(t.measure.isin(list(measures)))
    else:  # the quality measures contracts pay on: eCQMs and claims-based quality
        t = t.filter(t.measure_kind.isin(["ecqm", "claims_quality"]))
    rows = (t.select("entity_id", "measure", "numerator", "performance_denominator")
            .order_by(["entity_id", "measure"]).to_pyarrow().to_pylist())
    if not rows:
        raise InvalidInput(f"measure_results has no {entity_type} results for {year}")
    return [{"entity": str(r["entity_id"]), "measure": str(r["measure"]),
             "numerator": str(int(r["numerator"] or 0)),
             "denominator": str(int(r["performance_denominator"]))} for r in rows]


def _attributed(ws: Workspace, year: int, payer_type: str | None) -> ir.Table:
    att = ws.table("attribution")
    att = att.filter(att.year == year).select("person_id", entity=att.provider_npi)
    mm = ws.table("member_months")
    mm = mm.filter(mm.year == year)
    if payer_type:
        mm = mm.filter(mm.payer_type == payer_type)
    months = mm.group_by("person_id").aggregate(member_months=mm.year_month.nunique())
    return att.join(months, "person_id")


def risk_payment_year(ws: Workspace, year: int) -> int | None:
    """The CMS-HCC payment year whose scores stand for ``year``: the year itself when the
    ``risk_scores`` stage scored it, else the nearest scored year (the later one on a tie),
    since the stage scores only the payment years the official tables cover."""
    if not ws.has_table("hcc_scores"):
        return None
    h = ws.table("hcc_scores")
    years = [int(y) for y in h.select("payment_year").distinct().to_pyarrow().column(0)
             .to_pylist() if y is not None]
    if not years:
        return None
    return min(years, key=lambda y: (abs(y - year), -y))


def _scores(ws: Workspace, year: int) -> ir.Table | None:
    payment_year = risk_payment_year(ws, year)
    if payment_year is None:
        return None
    h = ws.table("hcc_scores")
    h = h.filter(h.payment_year == payment_year)
    models = set(h.select("model").distinct().to_pyarrow().column(0).to_pylist())
    model = "V28" if "V28" in models else sorted(models)[0]
    h = h.filter(h.model == model)
    return h.select("person_id", score=h.payment_score.fill_null(h.raw_score))


def _cost(ws: Workspace, year: int, payer_type: str | None) -> ir.Table:
    parts = []
    ch = ws.table("claim_header")
    ch = ch.filter(ch.claim_start_date.year() == year)
    if payer_type:
        ch = ch.filter(ch.payer_type == payer_type)
    parts.append(ch.select("person_id", paid=ch.paid_amount.fill_null(0).cast(MONEY)))
    if ws.has_table("pharmacy_claim"):
        rx = ws.table("pharmacy_claim")
        rx = rx.filter(rx.dispensing_date.year() == year)
        if payer_type:
            rx = rx.filter(rx.payer_type == payer_type)
        parts.append(rx.select("person_id", paid=rx.paid_amount.fill_null(0).cast(MONEY)))
    allp = ibis.union(*parts) if len(parts) > 1 else parts[0]
    return allp.group_by("person_id").aggregate(actual_cost=allp.paid.sum().cast(MONEY))


def entity_rows(ws: Workspace, year: int, payer_type: str | None = None
                ) -> list[dict[str, str]]:
    """``entity, member_months, avg_risk_score, unscored_member_months, risk_payment_year,
    actual_cost, ffs_revenue`` per attributed primary-care clinician (capitation, PCMH,
    P4P)."""
    _need(ws, "attribution", "member_months", "claim_header", "medical_claim")
    members = _attributed(ws, year, payer_type)
    cost = _cost(ws, year, payer_type)
    t = members.left_join(cost, "person_id").drop("person_id_right")
    scores = _scores(ws, year)
    if scores is not None:
        t = t.left_join(scores, "person_id").drop("person_id_right")
    else:
        t = t.mutate(score=ibis.null("float64"))
    scored = t.score.notnull()
    agg = t.group_by("entity").aggregate(
        member_months=t.member_months.sum(),
        scored_months=ibis.cases((scored, t.member_months), else_=0).sum(),
        weighted=ibis.cases((scored, t.score * t.member_months), else_=0.0).sum(),
        actual_cost=t.actual_cost.fill_null(0).cast(MONEY).sum().cast(MONEY),
    )
    mc = ws.table("medical_claim")
    if payer_type:
        mc = mc.filter(mc.payer_type == payer_type)
    ffs = ffs_revenue(mc)
    ffs = ffs.filter(ffs.year == year)
    ffs = ffs.group_by(entity=ffs.provider_npi).aggregate(ffs_revenue=ffs.allowed.sum()
                                                          .cast(MONEY))
    out = agg.left_join(ffs, "entity").drop("entity_right").order_by("entity")
    rows = out.to_pyarrow().to_pylist()
    payment_year = risk_payment_year(ws, year)
    if not rows:
        raise InvalidInput(f"no attributed members with member months in {year}"
                           + (f" for payer type {payer_type}" if payer_type else ""))
    result = []
    for r in rows:
        months = int(r["member_months"])
        scored_months = int(r["scored_months"] or 0)
        score = (Decimal(str(r["weighted"])) / scored_months).quantize(Decimal("0.0001"))\
            if scored_months else None
        result.append({
            "entity": str(r["entity"]), "member_months": str(months),
            "avg_risk_score": "" if score is None else f"{score}",
            "unscored_member_months": str(months - scored_months),
            "risk_payment_year": "" if payment_year is None else str(payment_year),
            "actual_cost": f"{Decimal(r['actual_cost'] or 0):.2f}",
            "ffs_revenue": f"{Decimal(r['ffs_revenue'] or 0):.2f}",
        })
    return result


def episode_rows(ws: Workspace, condition: str, year: int, base_years: Sequence[int],
                 terms: PricingTerms | None = None) -> tuple[list[dict[str, str]], object]:
    """Bundle episodes of ``condition`` anchored in ``year`` with a target price priced
    from the episodes anchored in ``base_years``; returns the rows and the price build-up."""
    _need(ws, "care_cycles")
    cc = ws.table("care_cycles")
    cc = cc.filter((cc.condition == condition) & (cc.cycle_kind == "acute_episode"))
    anchor_year = cc.anchor_start_date.year()
    base = cc.filter(anchor_year.isin(list(base_years)))
    costs = [Decimal(v) for v in base.select(p=base.paid_amount.cast(MONEY))
             .to_pyarrow().column(0).to_pylist() if v is not None]
    if not costs:
        raise InvalidInput(f"no {condition} episodes in the base years "
                           f"{', '.join(map(str, base_years))} to price the bundle from")
    build = price_bundle(costs, terms or PricingTerms())
    perf = cc.filter(anchor_year == year).order_by("cycle_id")
    rows = perf.select("cycle_id", "facility_npi", "accountable_npi",
                       paid=perf.paid_amount.cast(MONEY)).to_pyarrow().to_pylist()
    if not rows:
        raise InvalidInput(f"no {condition} episodes anchored in {year}")
    return [{"episode_id": str(r["cycle_id"]),
             "provider": str(r["facility_npi"] or r["accountable_npi"] or "unknown"),
             "episode_type": condition, "target_price": f"{build.price:.2f}",
             "actual_spend": f"{Decimal(r['paid'] or 0):.2f}"} for r in rows], build
