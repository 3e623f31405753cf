"""Development tooling shared by the test suite and scripts/bench (not used by the app)."""
