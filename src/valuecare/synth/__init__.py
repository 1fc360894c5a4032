"""Synthetic population generator with planted truth (see docs/synthetic-data.md).

>>> from valuecare.synth import generate, SynthConfig  # doctest: +SKIP
>>> generate(SynthConfig(members=5000, years=3, seed=7), out="pop")  # doctest: +SKIP
"""

from valuecare.synth.config import DATA_SOURCE, GENERATOR_VERSION, SynthConfig
from valuecare.synth.run import generate

__all__ = ["DATA_SOURCE", "GENERATOR_VERSION", "SynthConfig", "generate"]
