"""The `levhaolam` command: one entry point to run, seed, inspect and check the platform."""
