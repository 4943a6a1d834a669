"""The across-language statistics on planted studies: the figures quoted in docs/analysis.md.

    python perf/across_simulation.py [N_SLOPE_SIMS] [N_MODERATOR_SIMS]     # defaults 200 and 1000

Prints the coverage of the mean slope's 95 % interval, the mean of τ̂ against the planted τ with its
SE, the prediction interval's coverage of a new language's slope, the planted moderator's power and
the null moderator's false-positive rate at α = 0.05 (tests/analysis/planted.py; the slow tests of
tests/analysis/test_across_simulation.py assert the same with the same counts).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.analysis.planted import moderator_rates, slope_coverage  # noqa: E402

if __name__ == "__main__":
    n_slope = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    n_moderator = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    started = time.perf_counter()
    slope = slope_coverage(n_slope, seed=26)
    print(f"{n_slope} studies (10 languages, mean 0.02, tau 0.01): coverage {slope['coverage']:.1%}, "
          f"tau mean {slope['tau_mean']:.5f} (SE {slope['tau_se']:.5f}), tau² mean {slope['tau2_mean']:.4e} "
          f"(SE {slope['tau2_se']:.2e}), PI coverage {slope['pi_coverage']:.1%} "
          f"[{time.perf_counter() - started:.0f} s]")
    started = time.perf_counter()
    rates = moderator_rates(n_moderator, seed=27)
    print(f"{n_moderator} studies (12 languages): planted moderator power {rates['power']:.1%}, null moderator "
          f"false-positive rate {rates['false_positive_rate']:.1%} [{time.perf_counter() - started:.0f} s]")
