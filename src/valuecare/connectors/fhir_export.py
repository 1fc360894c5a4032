"""Quality-measure results as FHIR R4 ``MeasureReport`` resources, and back.

:func:`measure_reports` turns the eCQM rows of ``measure_results`` and ``measure_members``
into MeasureReports (FHIR R4, validated with the R4B models of ``fhir.resources``, R4's
technical correction; the MeasureReport elements used here are the same in both):

* one ``summary`` report per measure x measurement period for the whole population
  (``entity_type`` overall), and one per measure x period x attributed clinician
  (``entity_type`` clinician: the rendering NPI with the most qualifying encounters, see
  :mod:`valuecare.outcomes.quality`), with that clinician as ``reporter``;
* one ``individual`` report per member x measure x period (``measure_members``), with the
  member as ``subject`` and the populations as 0/1.

Each group holds the five eCQM populations coded in
``http://terminology.hl7.org/CodeSystem/measure-population`` (initial-population,
denominator, denominator-exclusion, denominator-exception, numerator) and, for summaries
with a performance denominator, ``measureScore`` = numerator / (denominator -
exclusions - exceptions), the ``rate`` of ``measure_results``.  ``measure`` is the
eCQI Resource Center page of the eCQM version (``https://ecqi.healthit.gov/ecqm/ec/2024/
cms0122v12``): the measures are evaluated with their QDM-era logic on claims, so no FHIR
Measure canonical of CMS is claimed.  The mapping is in ``docs/connectors.md``.

:func:`write_measure_reports` writes them as Bulk Data NDJSON (``MeasureReport.ndjson``,
one resource a line) and, if asked, a ``collection`` Bundle; :func:`read_measure_reports`
parses either back (with the same models) into plain rows of numbers.

fhir.resources checks structure and types but not required code bindings, so
:func:`check_report` also checks ``status``, ``type`` and the population codes.  Error
messages name the file, line and element, never a value (it may be health information).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from valuecare.errors import InvalidInput, MissingFile, WorkspaceError

POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
IMPROVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
#: Identifier system of the deterministic report ids (``urn:uuid:`` values).
URI_SYSTEM = "urn:ietf:rfc:3986"
#: Namespace of the uuid5 report ids: the same measure, period and entity give the same id.
ID_NAMESPACE = uuid.UUID("5b0c7c0e-9d3e-5a57-9a57-76616c756563")
ECQI = "https://ecqi.healthit.gov/ecqm/ec"

#: (FHIR population code, display, ``measure_results`` column, ``measure_members`` column)
POPULATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("initial-population", "Initial Population", "initial_population", "initial_population"),
    ("denominator", "Denominator", "denominator", "denominator"),
    ("denominator-exclusion", "Denominator Exclusion", "exclusions", "exclusion"),
    ("denominator-exception", "Denominator Exception", "exceptions", "exception"),
    ("numerator", "Numerator", "numerator", "numerator"),
)
_CODES = {code: col for code, _, col, _ in POPULATIONS}
_STATUS = ("complete", "pending", "error")
_TYPES = ("individual", "subject-list", "summary", "data-collection")
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_NPI = re.compile(r"^[0-9]{10}$")
_ECQI_URL = re.compile(r"/cms0*([0-9]+)v([0-9]+)$")
FILE_NAME = "MeasureReport.ndjson"
BUNDLE_NAME = "MeasureReport-bundle.json"


def _model() -> Any:
    from fhir.resources.R4B.measurereport import MeasureReport

    return MeasureReport


# ---- building --------------------------------------------------------------------------
@lru_cache(maxsize=256)
def measure_url(measure: str, version: str | None, period_end: date) -> str:
    """The eCQI Resource Center page of an eCQM version, e.g. ``CMS122``, ``CMS122v12`` ->
    ``https://ecqi.healthit.gov/ecqm/ec/2024/cms0122v12`` (the year is the performance year
    of that version in the measure definition, else that of the period)."""
    from valuecare.outcomes.quality_defs import load_measures

    number = re.fullmatch(r"CMS([0-9]+)", measure)
    if number is None:
        raise InvalidInput(f"measure {measure!r} is not an eCQM id (CMS<number>); only eCQMs "
                           "are exported as MeasureReport")
    v = re.fullmatch(rf"{measure}v([0-9]+)", version or "")
    year = period_end.year
    if v is None:
        try:
            ver = load_measures().get(measure).version_for(year)
        except InvalidInput:
            return f"{ECQI}/{year}/cms{int(number.group(1)):04d}"
        return f"{ECQI}/{ver.year}/cms{int(number.group(1)):04d}v{ver.version}"
    try:
        defined = {x.version: x.year for x in load_measures().get(measure).versions}
    except InvalidInput:
        defined = {}
    year = defined.get(int(v.group(1)), year)
    return f"{ECQI}/{year}/cms{int(number.group(1)):04d}v{int(v.group(1))}"


def _inverse() -> dict[str, bool]:
    from valuecare.outcomes.quality_defs import load_measures

    lib = load_measures()
    return {mid: lib.get(mid).inverse for mid in lib.measures}


def report_id(*parts: object) -> str:
    """A deterministic resource id (uuid5 of the parts)."""
    return str(uuid.uuid5(ID_NAMESPACE, "|".join(str(p) for p in parts)))


def _population(code: str, display: str, count: int) -> dict[str, Any]:
    return {"code": {"coding": [{"system": POPULATION_SYSTEM, "code": code,
                                 "display": display}]}, "count": int(count)}


def _provider_ref(npi: str, providers: dict[str, tuple[str, str | None]]) -> dict[str, Any]:
    kind, name = providers.get(npi, ("Practitioner", None))
    ref: dict[str, Any] = {"identifier": {"system": NPI_SYSTEM, "value": npi}, "type": kind}
    if _FHIR_ID.match(npi):
        ref["reference"] = f"{kind}/{npi}"
    if name:
        ref["display"] = name
    return ref


def _base(rid: str, rtype: str, url: str, start: date, end: date, inverse: bool,
          when: str | None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "MeasureReport", "id": rid,
        "identifier": [{"system": URI_SYSTEM, "value": f"urn:uuid:{rid}"}],
        "status": "complete", "type": rtype, "measure": url,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "improvementNotation": {"coding": [{
            "system": IMPROVEMENT_SYSTEM, "code": "decrease" if inverse else "increase",
            "display": "Decreased score indicates improvement" if inverse
            else "Increased score indicates improvement"}]},
    }
    if when:
        res["date"] = when
    return res


def summary_report(row: dict[str, Any], *, providers: dict[str, tuple[str, str | None]],
                   inverse: bool, when: str | None = None) -> dict[str, Any]:
    """A ``summary`` MeasureReport (as a dict) from one eCQM row of ``measure_results``."""
    rid = report_id("summary", row["version"], row["period_start"], row["entity_type"],
                    row["entity_id"])
    res = _base(rid, "summary", measure_url(row["measure"], row["version"], row["period_end"]),
                row["period_start"], row["period_end"], inverse, when)
    if row["entity_type"] == "clinician":
        res["reporter"] = _provider_ref(str(row["entity_id"]), providers)
    group: dict[str, Any] = {"population": [
        _population(code, display, row[col] or 0) for code, display, col, _ in POPULATIONS]}
    if row["rate"] is not None and row["performance_denominator"]:
        # the float itself: JSON prints its shortest repr, which parses back to it exactly
        group["measureScore"] = {"value": float(row["rate"])}
    res["group"] = [group]
    return res


def individual_report(row: dict[str, Any], *, providers: dict[str, tuple[str, str | None]],
                      inverse: bool, person_system: str,
                      when: str | None = None) -> dict[str, Any]:
    """An ``individual`` MeasureReport (as a dict) from one row of ``measure_members``."""
    person = str(row["person_id"])
    rid = report_id("individual", row["version"], row["period_start"], person)
    res = _base(rid, "individual", measure_url(row["measure"], row["version"],
                                               row["period_end"]),
                row["period_start"], row["period_end"], inverse, when)
    subject: dict[str, Any] = {"identifier": {"system": person_system, "value": person},
                               "type": "Patient"}
    if _FHIR_ID.match(person):
        subject["reference"] = f"Patient/{person}"
    res["subject"] = subject
    if row.get("provider_npi"):
        res["reporter"] = _provider_ref(str(row["provider_npi"]), providers)
    res["group"] = [{"population": [
        _population(code, display, 1 if row[col] else 0)
        for code, display, _, col in POPULATIONS]}]
    return res


def check_report(res: Any) -> None:
    """Codes fhir.resources does not check: status, type and population codes."""
    where = f"MeasureReport/{res.id}"
    if res.status not in _STATUS:
        raise InvalidInput(f"{where}: status must be one of {', '.join(_STATUS)}")
    if res.type not in _TYPES:
        raise InvalidInput(f"{where}: type must be one of {', '.join(_TYPES)}")
    for g in res.group or []:
        for p in g.population or []:
            codes = [c for c in (p.code.coding if p.code else None) or []
                     if c.system == POPULATION_SYSTEM]
            if len(codes) != 1 or codes[0].code not in _CODES:
                raise InvalidInput(f"{where}: a group population needs one code of "
                                   f"{POPULATION_SYSTEM} ({', '.join(_CODES)})")


@dataclass(frozen=True)
class Report:
    """A MeasureReport validated with the R4B model, with the JSON text written for it."""

    id: str
    type: str
    json: str


def validate(res: dict[str, Any]) -> Any:
    """``res`` as a validated R4B MeasureReport model; :class:`InvalidInput` if it is not
    one (the message names the element, not its value)."""
    try:
        model = _model().model_validate(res)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or "MeasureReport"
        raise InvalidInput(f"MeasureReport/{res.get('id')}: invalid at {loc}: "
                           f"{str(first.get('msg', 'invalid'))[:200]}") from None
    check_report(model)
    return model


def _checked(res: dict[str, Any]) -> Report:
    model = validate(res)
    return Report(model.id, model.type, json.dumps(res, separators=(",", ":")))


def _published_at(ws: Any, name: str) -> str | None:
    rows = ws.meta.execute("SELECT published_at FROM catalog WHERE name = ? AND backend = ?",
                           [name, ws.backend])
    if not rows or rows[0][0] is None:
        return None
    ts: datetime = rows[0][0]
    return ts.replace(microsecond=0).isoformat() + "Z"


def _providers(ws: Any) -> dict[str, tuple[str, str | None]]:
    if not ws.has_table("provider"):
        return {}
    p = ws.table("provider").select("npi", "entity_type", "provider_name")
    out = {}
    for r in p.to_pyarrow().to_pylist():
        kind = "Organization" if (r["entity_type"] or "") == "organization" else "Practitioner"
        out[str(r["npi"])] = (kind, r["provider_name"])
    return out


def measure_reports(ws: Any, *, measures: Iterable[str] | None = None,
                    years: Iterable[int] | None = None, summary: bool = True,
                    individual: bool = True,
                    person_system: str = "urn:valuecare:person_id",
                    batch_rows: int = 50_000) -> Iterator[Report]:
    """MeasureReports from a workspace's eCQM results, each validated with the R4B model.

    Summaries first (overall, then clinicians, per measure and period), then individual
    reports streamed from ``measure_members``.  ``measures`` / ``years`` limit them;
    ``person_system`` is the identifier system of the member id in ``subject``.
    """
    if not ws.has_table("measure_results"):
        raise WorkspaceError(f"workspace {ws.path} has no measure_results yet; run "
                             "`valuecare run` first")
    inverse = _inverse()
    providers = _providers(ws)
    chosen = sorted(set(measures)) if measures is not None else None
    yrs = sorted({int(y) for y in years}) if years is not None else None

    def limit(t: Any) -> Any:
        if chosen is not None:
            t = t.filter(t.measure.isin(chosen))
        if yrs is not None:
            t = t.filter(t.period_end.year().isin(yrs))
        return t

    if summary:
        when = _published_at(ws, "measure_results")
        r = ws.table("measure_results")
        r = limit(r.filter((r.measure_kind == "ecqm")
                           & r.entity_type.isin(["overall", "clinician"])))
        r = r.order_by(["measure", "period_start", r.entity_type.desc(), "entity_id"])
        for row in r.to_pyarrow().to_pylist():
            yield _checked(summary_report(row, providers=providers,
                                          inverse=inverse.get(row["measure"], False),
                                          when=when))
    if individual and ws.has_table("measure_members"):
        when = _published_at(ws, "measure_members")
        m = limit(ws.table("measure_members"))
        m = m.select("measure", "version", "period_start", "period_end", "person_id",
                     "provider_npi", *[c for *_, c in POPULATIONS])
        m = m.order_by(["measure", "period_start", "person_id"])
        for batch in _batches(ws, m, batch_rows):
            for row in batch.to_pylist():
                yield _checked(individual_report(row, providers=providers,
                                                 inverse=inverse.get(row["measure"], False),
                                                 person_system=person_system, when=when))


def _batches(ws: Any, expr: Any, batch_rows: int) -> Iterator[Any]:
    """Record batches of ``expr`` in its order without holding it all in memory: on DuckDB
    through a temporary Parquet file (Ibis 12's ``to_pyarrow_batches`` does not run on
    DuckDB 2.0), on other engines from one Arrow table."""
    import tempfile

    import pyarrow.parquet as pq

    if ws.backend != "duckdb":
        yield from expr.to_pyarrow().to_batches(max_chunksize=batch_rows)
        return
    staging = ws.path / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging, prefix="export-") as tmp:
        path = Path(tmp) / "rows.parquet"
        expr.to_parquet(path)
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows)


# ---- writing ---------------------------------------------------------------------------
@dataclass
class WrittenReports:
    """What :func:`write_measure_reports` wrote."""

    files: list[Path] = field(default_factory=list)
    summary: int = 0
    individual: int = 0
    sha256: dict[str, str] = field(default_factory=dict)

    @property
    def resources(self) -> int:
        return self.summary + self.individual


def write_measure_reports(reports: Iterable[Report], out_dir: Path, *, ndjson: bool = True,
                          bundle: bool = False) -> WrittenReports:
    """Write MeasureReport models to ``out_dir/MeasureReport.ndjson`` (Bulk Data style)
    and/or ``out_dir/MeasureReport-bundle.json`` (a ``collection`` Bundle)."""
    if not (ndjson or bundle):
        raise InvalidInput("write NDJSON, a Bundle or both")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = WrittenReports()
    nd_path, b_path = out_dir / FILE_NAME, out_dir / BUNDLE_NAME
    nd_hash, b_hash = hashlib.sha256(), hashlib.sha256()
    nd = nd_path.open("w", encoding="utf-8", newline="\n") if ndjson else None
    bf = b_path.open("w", encoding="utf-8", newline="\n") if bundle else None

    def put(fh: Any, digest: Any, text: str) -> None:
        fh.write(text)
        digest.update(text.encode("utf-8"))

    try:
        if bf is not None:
            put(bf, b_hash, '{"resourceType":"Bundle","type":"collection","entry":[')
        first = True
        for model in reports:
            text = model.json
            if model.type == "individual":
                written.individual += 1
            else:
                written.summary += 1
            if nd is not None:
                put(nd, nd_hash, text + "\n")
            if bf is not None:
                entry = f'{{"fullUrl":"urn:uuid:{model.id}","resource":{text}}}'
                put(bf, b_hash, ("" if first else ",") + "\n" + entry)
            first = False
        if bf is not None:
            put(bf, b_hash, "\n]}\n")
    finally:
        if nd is not None:
            nd.close()
        if bf is not None:
            bf.close()
    if nd is not None:
        written.files.append(nd_path)
        written.sha256[nd_path.name] = nd_hash.hexdigest()
    if bf is not None:
        written.files.append(b_path)
        written.sha256[b_path.name] = b_hash.hexdigest()
    return written


# ---- reading ---------------------------------------------------------------------------
#: Columns of :func:`read_measure_reports` rows.
ROW_COLUMNS = ("id", "type", "measure", "version", "url", "period_start", "period_end",
               "reporter_type", "reporter_npi", "person_id", "initial_population",
               "denominator", "exclusions", "exceptions", "numerator", "score")


def report_row(model: Any) -> dict[str, Any]:
    """One parsed MeasureReport as a plain row (``ROW_COLUMNS``); ``score`` is a Decimal."""
    check_report(model)
    url = str(model.measure)
    m = _ECQI_URL.search(url)
    measure = f"CMS{int(m.group(1))}" if m else None
    row: dict[str, Any] = {
        "id": model.id, "type": model.type, "measure": measure,
        "version": f"{measure}v{int(m.group(2))}" if m else None, "url": url,
        "period_start": model.period.start if model.period else None,
        "period_end": model.period.end if model.period else None,
        "reporter_type": None, "reporter_npi": None, "person_id": None, "score": None,
    }
    if model.reporter is not None:
        ident = model.reporter.identifier
        npi = ident.value if ident is not None and ident.system == NPI_SYSTEM else None
        ref = model.reporter.reference or ""
        if npi is None and "/" in ref:
            npi = ref.split("/", 1)[1]
        row["reporter_npi"] = npi
        row["reporter_type"] = model.reporter.type or (ref.split("/", 1)[0] if ref else None)
    if model.subject is not None:
        ident = model.subject.identifier
        ref = model.subject.reference or ""
        row["person_id"] = (ident.value if ident is not None
                            else ref.split("/", 1)[1] if ref.startswith("Patient/") else None)
    counts = {col: 0 for col in _CODES.values()}
    groups = model.group or []
    if len(groups) > 1:
        raise InvalidInput(f"MeasureReport/{model.id}: more than one group; valuecare reads "
                           "single-group proportion reports")
    for g in groups:
        for p in g.population or []:
            code = next(c.code for c in p.code.coding if c.system == POPULATION_SYSTEM)
            counts[_CODES[code]] = int(p.count or 0)
        if g.measureScore is not None and g.measureScore.value is not None:
            row["score"] = Decimal(str(g.measureScore.value))
    row.update(counts)
    return {k: row[k] for k in ROW_COLUMNS}


def _parse(text: str | bytes, where: str) -> Any:
    try:
        return _model().model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or "MeasureReport"
        raise InvalidInput(f"{where}: not a valid FHIR R4 MeasureReport (at {loc}: "
                           f"{str(first.get('msg', 'invalid'))[:200]})") from None


def iter_measure_reports(path: str | Path) -> Iterator[Any]:
    """Parsed, validated MeasureReport models from an NDJSON file, a Bundle JSON file, or a
    folder holding ``MeasureReport.ndjson`` (else the Bundle)."""
    p = Path(path)
    if p.is_dir():
        p = p / FILE_NAME if (p / FILE_NAME).is_file() else p / BUNDLE_NAME
    if not p.is_file():
        raise MissingFile(f"{p}: no such file; give MeasureReport.ndjson, a Bundle, or the "
                          "folder `valuecare export --format fhir` wrote")
    if p.suffix == ".ndjson":
        with p.open("r", encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if line.strip():
                    model = _parse(line, f"{p} line {n}")
                    check_report(model)
                    yield model
        return
    try:
        doc = json.loads(p.read_bytes())
    except ValueError as exc:
        raise InvalidInput(f"{p}: not JSON ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{p}: expected a Bundle or a MeasureReport JSON object")
    if doc.get("resourceType") == "MeasureReport":
        model = _parse(json.dumps(doc), str(p))
        check_report(model)
        yield model
        return
    if doc.get("resourceType") != "Bundle":
        raise InvalidInput(f"{p}: expected a Bundle or a MeasureReport")
    for i, entry in enumerate(doc.get("entry") or []):
        res = (entry or {}).get("resource") or {}
        if res.get("resourceType") != "MeasureReport":
            continue
        model = _parse(json.dumps(res), f"{p} entry {i}")
        check_report(model)
        yield model


def read_measure_reports(path: str | Path) -> list[dict[str, Any]]:
    """MeasureReports written by :func:`write_measure_reports` (or any single-group
    proportion MeasureReports) parsed back into plain rows (``ROW_COLUMNS``)."""
    return [report_row(m) for m in iter_measure_reports(path)]
