"""Hypothesis settings for a shared machine: examples are judged by their result, not time.

CI and developer machines here have two cores that other test runs share; Hypothesis's
default 200 ms deadline and its "too slow" health check then fail property tests whose
examples are correct (seen on ``test_agrees_with_pyjwt_on_arbitrary_claims``). Timing is
the benchmarks' business (benchmarks/), never an assertion of a test.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile("envoy2mqtt", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("envoy2mqtt")
