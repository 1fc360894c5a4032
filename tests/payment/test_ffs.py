"""Fee-for-service revenue per provider, payer and year, from hand-built claims.

- H1 (facility): knee replacement 2024 $10,000 (Medicare) and one in 2025 $11,000
  (Humana); a $4,000 stay reversed (it and its reversal drop out).
- S1 (surgeon): professional claim $1,000 (Medicare, 2024) billed at H1's facility.
- PCP: two visits $90 and $130 (Medicare, 2024), allowed $110 and $160 (patient share
  $20 + $30).
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.conditions.edge_data import COLUMNS, H1, HUMANA, PCP, S1, ip, prof, reversal
from valuecare import Workspace
from valuecare.payment.ffs import ffs_revenue

pytestmark = pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")


def _claims() -> list[dict]:
    rows = [ip("F1", "A", "2024-03-01", "2024-03-04", "470", "M1711", "10000.00"),
            ip("F2", "B", "2025-01-05", "2025-01-07", "470", "M1711", "11000.00",
               payer=HUMANA),
            prof("F1P", "A", "2024-03-01", "27447", "M1711", "1000.00", S1, facility_npi=H1),
            prof("V1", "A", "2024-05-01", "99213", "I10", "90.00", PCP, pos="11",
                 allowed_amount="110.00"),
            prof("V2", "B", "2024-06-01", "99214", "I10", "130.00", PCP, pos="11",
                 allowed_amount="160.00")]
    stay = ip("F3", "B", "2024-08-01", "2024-08-03", "392", "K5290", "4000.00")
    return [*rows, stay, reversal(stay, "F3R")]


def _write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "member.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "sex", "birth_date", "data_source"])
        w.writerows([("A", "female", "1950-01-01", "ffs"), ("B", "male", "1951-01-01", "ffs")])
    with (folder / "eligibility.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "enrollment_start_date", "enrollment_end_date", "payer",
                    "payer_type", "plan", "data_source"])
        for p in ("A", "B"):
            w.writerow([p, "2024-01-01", "2025-12-31", "Medicare", "medicare", "FFS", "ffs"])
    with (folder / "medical_claim.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, [*COLUMNS], restval="")
        w.writeheader()
        w.writerows(_claims())
    return folder


@pytest.fixture(scope="module")
def revenue(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    tmp = tmp_path_factory.mktemp("ffs")
    ws = Workspace(tmp / "ws")
    ws.load(_write(tmp / "data"))
    out = ffs_revenue(ws.table("medical_claim")).to_pandas()
    ws.close()
    return out


def test_revenue_per_provider_payer_year(revenue: pd.DataFrame) -> None:
    got = {(r.provider_npi, r.payer, r.year): (r.claims, r.allowed, r.paid, r.patient_share)
           for r in revenue.itertuples()}
    assert got == {
        (H1, "Medicare", 2024): (1, Decimal("10000.00"), Decimal("10000.00"), Decimal("0.00")),
        (H1, "Humana", 2025): (1, Decimal("11000.00"), Decimal("11000.00"), Decimal("0.00")),
        (S1, "Medicare", 2024): (1, Decimal("1000.00"), Decimal("1000.00"), Decimal("0.00")),
        (PCP, "Medicare", 2024): (2, Decimal("270.00"), Decimal("220.00"), Decimal("50.00")),
    }


def test_reversed_claims_earn_nothing(revenue: pd.DataFrame) -> None:
    assert revenue.allowed.sum() == Decimal("22270.00")
