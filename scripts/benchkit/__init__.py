"""The pieces of scripts/bench: database, seed, server, load generator, ceilings, report."""
