"""Plumbing every MCP server shares: runtime (pool, clock, policy), callers and scopes, typed errors,
the two-phase action protocol with idempotency, and the audit log. No tool lives here."""
