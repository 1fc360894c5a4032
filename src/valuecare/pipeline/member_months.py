"""Member months from enrollment spans.

A member month is counted for a person, payer and plan when an enrollment span covers
at least one day of the calendar month (the Tuva Project ``core.member_months`` rule);
overlapping spans for the same payer and plan count once.  A person enrolled with two
payers in one month counts once for each (each payer's PMPM needs its own months).
"""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa

from valuecare.model.workspace import Run
from valuecare.pipeline.registry import Stage


def month_calendar(first: date, last: date) -> pa.Table:
    """One row per calendar month from ``first``'s month to ``last``'s month."""
    starts, ends = [], []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        starts.append(date(y, m, 1))
        ends.append(date.fromordinal(date(ny, nm, 1).toordinal() - 1))
        y, m = ny, nm
    return pa.table({"month_start": pa.array(starts, pa.date32()),
                     "month_end": pa.array(ends, pa.date32())})


def member_months(eligibility: ibis.Table) -> ibis.Table:
    """``person_id, year, year_month ('YYYYMM'), payer, payer_type, plan``, one per month."""
    e = eligibility
    bounds = e.aggregate(lo=e.enrollment_start_date.min(),
                         hi=e.enrollment_end_date.max()).to_pyarrow().to_pylist()[0]
    if bounds["lo"] is None:
        cal = month_calendar(date(2000, 1, 1), date(1999, 12, 1))
    else:
        cal = month_calendar(bounds["lo"], bounds["hi"])
    months = ibis.memtable(cal)
    joined = e.join(
        months,
        (months.month_start <= e.enrollment_end_date)
        & (months.month_end >= e.enrollment_start_date),
    )
    return joined.select(
        person_id=joined.person_id,
        year=joined.month_start.year().cast("int32"),
        year_month=joined.month_start.strftime("%Y%m"),
        payer=joined.payer,
        payer_type=joined.payer_type,
        plan=joined.plan,
    ).distinct()


def _stage(run: Run) -> dict[str, int]:
    mm = run.write("member_months", member_months(run.table("eligibility")))
    persons = mm.person_id.nunique().to_pyarrow().as_py()
    return {"member_months": run.row_counts["member_months"], "persons": int(persons)}


STAGE = Stage(
    name="member_months",
    needs=("eligibility",),
    writes=("member_months",),
    func=_stage,
    description="Member months by person, payer and plan from enrollment spans (Tuva rule).",
)
