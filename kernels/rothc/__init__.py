"""RothC v2.0.0 (Rothamsted carbon model) as numba kernels vectorised over pixels.

- ``Soil``, ``Forcing`` (``inputs``): validated per-pixel inputs.
- ``rate_modifiers``, ``equilibrium`` (exact fixed point, or the official shell's stopping
  rule), ``run_monthly`` (every month), ``forward`` (end state, several input factors).
- ``inverse_input`` and ``scenarios`` (GSOCseq-style sequestration potential).
"""

from kernels.rothc.gsocseq import ScenarioResult, inverse_input, scenarios
from kernels.rothc.inputs import Forcing, Soil, clay_partition_ratio, falloon_iom
from kernels.rothc.model import (
    Equilibrium,
    MonthlyRun,
    RateModifiers,
    equilibrium,
    forward,
    rate_modifiers,
    run_monthly,
)

__all__ = [
    "Equilibrium",
    "Forcing",
    "MonthlyRun",
    "RateModifiers",
    "ScenarioResult",
    "Soil",
    "clay_partition_ratio",
    "equilibrium",
    "falloon_iom",
    "forward",
    "inverse_input",
    "rate_modifiers",
    "run_monthly",
    "scenarios",
]
