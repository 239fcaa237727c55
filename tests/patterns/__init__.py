"""Building blocks of tests/test_patterns.py: the custom models of the patterns
(:mod:`patterns.models`) and the independent reference checks every pattern runs
(:mod:`patterns.checks`)."""
