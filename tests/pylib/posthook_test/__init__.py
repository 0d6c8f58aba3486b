"""posthook_test - what the Python suites share: harness (a scratch
Postfix, a scripted MX, a verifying receiver, the daemons), e2e_stack (the
whole stack on it), webhook (the sender's suites), reliability (the outage
and chaos runs).  Found through PYTHONPATH=tests/pylib, which make check
and make chaos set."""
