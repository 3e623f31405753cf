"""scripts/neon: aido-todo's Neon provisioning over the Neon HTTP API v2 (stdlib only)."""
