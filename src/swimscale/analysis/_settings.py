"""The settings of the analysis: the config's ``analysis`` section, its defaults from the schema.

The JSON schema (workflow/schemas/config.schema.yaml) is the one home of the defaults: the workflow
gets them filled in by Snakemake, the command line and library callers through
:func:`swimscale.config.defaults`, here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from swimscale.config import defaults
from swimscale.errors import InputError


@dataclass(frozen=True)
class Settings:
    """The ``analysis`` section of the config (see the schema for each key)."""

    target_recall: float
    n_boot: int
    n_boot_fit: int
    seed: int
    level: float

    @classmethod
    def of(cls, values: Mapping[str, Any] | None = None) -> Settings:
        """The schema's defaults overridden by ``values``; bad values raise :class:`InputError`."""
        merged = {**defaults("analysis"), **{k: v for k, v in (values or {}).items() if v is not None}}
        unknown = sorted(set(merged) - set(cls.__dataclass_fields__))
        if unknown:
            raise InputError(f"analysis settings: unknown key(s) {', '.join(unknown)}")
        settings = cls(**merged)
        settings.check()
        return settings

    def check(self) -> None:
        if math.isnan(self.target_recall) or not (0 < self.target_recall <= 1):
            raise InputError(f"target recall must be in (0, 1], got {self.target_recall}")
        if self.n_boot < 0 or self.n_boot_fit < 0:
            raise InputError("resample counts must be ≥ 0")
        if math.isnan(self.level) or not (0 < self.level < 1):
            raise InputError(f"confidence level must be in (0, 1), got {self.level}")

    @property
    def n_refits(self) -> int:
        """Learning-curve refits: the first ``n_boot_fit`` of the ``n_boot`` replicates."""
        return min(self.n_boot_fit, self.n_boot)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
