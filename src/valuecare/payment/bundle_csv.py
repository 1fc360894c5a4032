"""Episode CSV in, provider settlements out: the file side of ``valuecare settle bundle``.

The input has one row per episode with the columns of :data:`REQUIRED_COLUMNS`, optionally
:data:`OPTIONAL_COLUMNS` (other columns are ignored). Money is dollars with at most two
decimals. The output has one row per provider with :data:`RESULT_COLUMNS`: money in
dollars with cents, rates as fractions (0.03). Every input problem is an
:class:`~valuecare.errors.InvalidInput` naming the file, the row and the column (or the
contract's field); nothing is written unless every provider settles, and the output
appears at once (temporary file beside it, then renamed).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from valuecare.errors import InvalidInput, MissingFile
from valuecare.payment.bundle import Episode, EpisodeInputError, ProviderSettlement, settle_bundle
from valuecare.payment.bundle_terms import BundleContract, load_contract
from valuecare.payment.mssp_csv import rate_text, write_csv

REQUIRED_COLUMNS: tuple[str, ...] = ("episode_id", "provider", "target_price", "actual_spend")
#: ``episode_type`` groups episodes for the high-cost cap (default ``all``);
#: ``warranty_claims`` defaults to 0 when the column is absent (never when a cell is empty).
OPTIONAL_COLUMNS: tuple[str, ...] = ("episode_type", "warranty_claims")
RESULT_COLUMNS: tuple[str, ...] = (
    "provider", "episodes", "quality_score", "quality_category", "side", "effective_discount",
    "target_total", "actual_total", "actual_after_cap_total", "capped_episodes",
    "npra_before_limits", "stop_gain_limit", "stop_loss_limit", "npra_after_limits",
    "payment_or_repayment", "warranty_charge", "reconciliation_amount", "note")


@dataclass(frozen=True)
class SettledBundle:
    contract: BundleContract
    episodes: tuple[Episode, ...]
    providers: tuple[ProviderSettlement, ...]

    @property
    def total(self) -> Decimal:
        return sum((p.reconciliation_amount for p in self.providers), Decimal(0))


def _decimal(text: str, column: str, where: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise InvalidInput(f"{where}, column {column}: {text!r} is not a number; write a plain "
                           "number such as 25000.00 (no $, no thousands separators)")
    return value


def read_episodes(path: Path) -> tuple[Episode, ...]:
    """The episodes of ``path``, validated (all or nothing)."""
    if not path.is_file():
        raise MissingFile(f"{path}: no such file; give the CSV of episodes to settle")
    episodes: list[Episode] = []
    seen: dict[str, int] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise InvalidInput(f"{path}: the file is empty; it needs a header row with "
                                   f"{', '.join(REQUIRED_COLUMNS)}")
            columns = tuple(c.strip() for c in header)
            duplicates = sorted({c for c in columns if columns.count(c) > 1})
            if duplicates:
                raise InvalidInput(f"{path}: column(s) repeated in the header: "
                                   f"{', '.join(duplicates)}")
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)}; the header "
                                   f"needs {', '.join(REQUIRED_COLUMNS)} (optionally "
                                   f"{', '.join(OPTIONAL_COLUMNS)})")
            for record in reader:
                if not any(cell.strip() for cell in record):
                    continue
                where = f"{path}: row {len(episodes) + 1} (line {reader.line_num})"
                if len(record) != len(columns):
                    raise InvalidInput(f"{where}: {len(record)} fields but the header has "
                                       f"{len(columns)}; quote values that contain commas")
                values = dict(zip(columns, (c.strip() for c in record), strict=True))
                episode = _episode(values, where)
                if episode.episode_id in seen:
                    raise InvalidInput(f"{where}, column episode_id: episode "
                                       f"{episode.episode_id} is also in row "
                                       f"{seen[episode.episode_id]}; give each episode one row")
                seen[episode.episode_id] = len(episodes) + 1
                episodes.append(episode)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc}); save the CSV as UTF-8") from exc
    except csv.Error as exc:
        raise InvalidInput(f"{path}: not a readable CSV ({exc})") from exc
    if not episodes:
        raise InvalidInput(f"{path}: no episode rows under the header")
    return tuple(episodes)


def _episode(values: dict[str, str], where: str) -> Episode:
    for col in (*REQUIRED_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in values)):
        if not values[col]:
            raise InvalidInput(f"{where}, column {col}: empty; give a value")
    try:
        return Episode(
            episode_id=values["episode_id"], provider=values["provider"],
            target_price=_decimal(values["target_price"], "target_price", where),
            actual_spend=_decimal(values["actual_spend"], "actual_spend", where),
            warranty_claims=_decimal(values["warranty_claims"], "warranty_claims", where)
            if "warranty_claims" in values else Decimal(0),
            episode_type=values.get("episode_type", "all"))
    except EpisodeInputError as exc:
        raise InvalidInput(f"{where}, column {exc.column}: {exc}") from exc


def settle_files(contract_path: Path, episodes_path: Path) -> SettledBundle:
    """Read the contract and the episodes and settle every provider (all or nothing)."""
    contract = load_contract(contract_path)
    episodes = read_episodes(episodes_path)
    try:
        providers = settle_bundle(episodes, contract.resolved_terms(), contract.providers,
                                  basis=contract.target_price_basis,
                                  warranty_share=contract.warranty.provider_share)
    except InvalidInput as exc:
        raise InvalidInput(f"{episodes_path} with {contract_path}: {exc}") from exc
    return SettledBundle(contract, episodes, providers)


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f}"


def result_fields(s: ProviderSettlement) -> dict[str, str]:
    """One provider's output row, as written to CSV."""
    return {
        "provider": s.provider, "episodes": str(s.episodes),
        "quality_score": format(s.quality_score, "f"), "quality_category": s.quality_category,
        "side": s.side, "effective_discount": rate_text(s.effective_discount),
        "target_total": _money(s.target_total), "actual_total": _money(s.actual_total),
        "actual_after_cap_total": _money(s.actual_after_cap_total),
        "capped_episodes": str(s.capped_episodes),
        "npra_before_limits": _money(s.npra_before_limits),
        "stop_gain_limit": _money(s.stop_gain_limit),
        "stop_loss_limit": _money(s.stop_loss_limit),
        "npra_after_limits": _money(s.npra_after_limits),
        "payment_or_repayment": _money(s.payment_or_repayment),
        "warranty_charge": _money(s.warranty_charge),
        "reconciliation_amount": _money(s.reconciliation_amount), "note": s.note,
    }


def write_bundle_settlements(path: Path, settled: SettledBundle) -> None:
    """One row per provider with :data:`RESULT_COLUMNS`, written atomically."""
    write_csv(path, RESULT_COLUMNS, [result_fields(p) for p in settled.providers])
