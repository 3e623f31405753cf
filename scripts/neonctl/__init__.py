"""scripts/neon: Neon provisioning for aido-todo over the Neon HTTP API v2 (standard library only)."""
