"""Calibration of the provider comparison on a seeded population with planted quality.

2,000 providers (about 150,000 patients) with the synthetic generator's planted
multiplier distribution (:func:`valuecare.synth.providers._latent`: lognormal sigma 0.25
around 1, 5% clearly worse x2.5, 5% clearly better x0.4), lognormal volumes (median 60
patients, a realistic spread of hospital volumes), a patient case mix that drives risk
(age, dual status, social needs, sex) and outcomes drawn from the case-mix risk times the
provider's multiplier.  The comparison sees only the outcomes and covariates.

Groups as in ``tests/outcomes/test_planted.py``: planted worse (multiplier >= 1.25), better
(<= 0.8), average in between.  The test asserts that at most 5% of planted-average providers
are labelled worse than expected, that planted-worse providers are found far more often
than average ones, and reports the sensitivity (run with ``-s``; also a test property).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from valuecare.compare.providers import compare_providers
from valuecare.synth.providers import _latent

WORSE = "worse than expected"


def _population(seed: int, providers: int = 2000) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    mult = _latent(rng, providers, 0.25)
    volume = np.maximum(10, np.round(np.exp(rng.normal(np.log(60), 0.8, providers))))
    prov = np.repeat(np.arange(providers), volume.astype(int))
    n = len(prov)
    age = rng.normal(70, 9, n).clip(40, 95)
    female = (rng.random(n) < 0.55).astype(float)
    dual = (rng.random(n) < 0.2).astype(float)
    social = rng.poisson(0.3, n).astype(float)
    hcc = rng.gamma(2.0, 0.5, n)
    lp = -3.2 + 0.03 * (age - 70) + 0.4 * dual + 0.2 * social - 0.1 * female + 0.3 * hcc
    risk = 1 / (1 + np.exp(-lp))
    y = (rng.random(n) < np.minimum(risk * mult[prov], 0.95)).astype(float)
    df = pd.DataFrame({"cycle_id": np.arange(n).astype(str), "provider": prov.astype(str),
                       "value": y, "age": age, "age_sq": age**2 / 100, "female": female,
                       "dual": dual, "social_needs": social, "hcc_score": hcc,
                       "hcc_missing": 0.0})
    return df, mult


def test_flags_planted_worse_and_few_planted_average(record_property) -> None:
    seed = 2026
    df, mult = _population(seed)
    out = compare_providers(df)
    out["m"] = mult[out["provider"].astype(int)]
    group = np.select([out.m >= 1.25, out.m <= 0.8], ["worse", "better"], "average")
    worse = out.label == WORSE
    avg = group == "average"
    fp = float(worse[avg].mean())
    sens = float(worse[group == "worse"].mean())
    sens_clear = float(worse[out.m >= 2.5].mean())
    srtr_fp = float(out.srtr_flag[avg].mean())
    srtr_sens = float(out.srtr_flag[group == "worse"].mean())
    text = (f"seed {seed}: labelled worse {fp:.1%} of {avg.sum()} planted-average, "
            f"{sens:.1%} of {(group == 'worse').sum()} planted-worse ({sens_clear:.1%} of the "
            f"x2.5 providers); SRTR flags {srtr_fp:.1%} average, {srtr_sens:.1%} worse; "
            "labelled worse by planted multiplier: " + ", ".join(
                f"{lo}-{hi}: {worse[(out.m >= lo) & (out.m < hi)].mean():.1%}"
                for lo, hi in ((0.8, 0.9), (0.9, 1.1), (1.1, 1.25), (1.25, 2.0))))
    print("\n" + text)
    record_property("calibration", text)
    assert set(out.attrs["covariates"]) >= {"age", "dual", "hcc_score"}
    assert fp <= 0.05
    assert sens_clear >= 0.3 and sens >= 5 * max(fp, 0.01)
    # better providers are almost never called worse, and some are called better
    assert worse[group == "better"].mean() <= 0.005
    assert (out.label[out.m <= 0.4] == "better than expected").mean() > 0


def test_risk_adjustment_removes_case_mix_from_the_comparison() -> None:
    """Same quality everywhere, but one provider treats much sicker patients: the raw rate
    makes it look worse, O/E does not."""
    rng = np.random.default_rng(7)
    n_per = 400
    rows = []
    for p, shift in enumerate([0.0] * 9 + [2.0]):
        hcc = rng.gamma(2.0, 0.5, n_per) + shift
        risk = 1 / (1 + np.exp(-(-3.0 + 0.6 * hcc)))
        rows.append(pd.DataFrame({"provider": str(p), "hcc_score": hcc,
                                  "value": (rng.random(n_per) < risk).astype(float)}))
    df = pd.concat(rows, ignore_index=True)
    df["cycle_id"] = np.arange(len(df)).astype(str)
    out = compare_providers(df, covariates=("hcc_score",)).set_index("provider")
    raw = df.groupby("provider")["value"].mean()
    assert raw["9"] > 2 * raw.drop("9").mean()  # raw rate: the sick-patient provider is worst
    assert 0.75 < out.loc["9", "oe"] < 1.25  # risk-adjusted: as expected
    assert out.loc["9", "label"] == "as expected"
