"""Per-chunk state shared by the service generators."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from valuecare.synth.claims import ClaimBuilder
from valuecare.synth.members import Members
from valuecare.synth.providers import Providers
from valuecare.synth.util import day, month_index


@dataclass
class Context:
    seed: int
    chunk: int
    start_year: int
    years: int
    m: Members
    prov: Providers
    months: np.ndarray
    rng: np.random.Generator
    claims: ClaimBuilder = field(default_factory=ClaimBuilder)
    #: observation requests (dicts of arrays); ``seq`` ties one to its claim
    obs: list[dict[str, Any]] = field(default_factory=list)
    #: planted care cycles (dicts of arrays)
    cycles: list[dict[str, Any]] = field(default_factory=list)
    #: visits that define chronic-year cycles: seq, cycle, day
    cycle_visits: list[dict[str, np.ndarray]] = field(default_factory=list)
    n_cycles: int = 0
    #: (person, surgery day) of breast-cancer surgeries, for endocrine therapy fills
    extra_breast: tuple[np.ndarray, np.ndarray] | None = None
    #: members with diabetes on insulin (set by the diabetes generator)
    insulin: np.ndarray | None = None
    #: multiplier on the incidence of acute episodes (SynthConfig.episode_scale)
    episode_scale: float = 1.0

    @property
    def start(self) -> int:
        return day(self.start_year)

    @property
    def end(self) -> int:
        """First day after the window."""
        return day(self.start_year + self.years)

    def year_start(self, y: np.ndarray | int) -> np.ndarray:
        years = np.asarray(y) + self.start_year
        return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)

    def events(self, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Poisson events from an n x years rate matrix: (person, day) arrays, days uniform
        within each calendar year."""
        counts = self.rng.poisson(np.maximum(rate, 0.0))
        flat = counts.ravel()
        idx = np.repeat(np.arange(flat.size), flat)
        person = idx // self.years
        y = idx % self.years
        y0 = self.year_start(y)
        length = self.year_start(y + 1) - y0
        days = y0 + (self.rng.random(len(idx)) * length).astype(np.int64)
        return person, days

    def covered_events(self, rate: np.ndarray, *, first_only: bool = False
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Poisson events (see :meth:`events`) of members alive and enrolled on the day;
        with ``first_only`` each member's first event alone."""
        person, days = self.events(rate)
        keep = self.alive_covered(person, days)
        person, days = person[keep], days[keep]
        if first_only:
            order = np.lexsort((days, person))
            person, days = person[order], days[order]
            first = np.ones(len(person), dtype=bool)
            first[1:] = person[1:] != person[:-1]
            person, days = person[first], days[first]
        return person, days

    def alive_covered(self, person: np.ndarray, days: np.ndarray) -> np.ndarray:
        mi = month_index(days, self.start_year)
        ok = (mi >= 0) & (mi < self.months.shape[1])
        out = np.zeros(len(person), dtype=bool)
        out[ok] = self.months[person[ok], mi[ok]] >= 0
        return out & (days <= self.m.death[person])

    def new_cycles(self, n: int) -> np.ndarray:
        ids = np.arange(self.n_cycles, self.n_cycles + n, dtype=np.int64)
        self.n_cycles += n
        return ids

    def pick(self, role: str, person: np.ndarray, skew: float = 1.0) -> np.ndarray:
        return self.prov.pick(self.rng, role, self.m.region[person], skew)

    def choice(self, options: np.ndarray | list[Any], n: int,
               p: np.ndarray | list[float] | None = None) -> np.ndarray:
        arr = np.asarray(options, dtype=object)
        if p is None:
            return arr[self.rng.integers(0, len(arr), n)]
        pr = np.asarray(p, dtype=np.float64)
        return arr[self.rng.choice(len(arr), size=n, p=pr / pr.sum())]

    def payer_type(self, person: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Payer type index at a date (baseline type where not enrolled)."""
        from valuecare.synth import params as P

        mi = np.clip(month_index(days, self.start_year), 0, self.months.shape[1] - 1)
        pay = self.months[person, mi].astype(np.int64)
        pay = np.where(pay >= 0, pay, self.m.payer0[person])
        return P.PAYER_TYPE_OF[pay]
