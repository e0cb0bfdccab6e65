"""Who may call the MCP servers: the bearer tokens the orchestrator and the CLI mint and the servers verify.

Neutral ground: the orchestrator mints with it and never imports `servers/`; the servers verify its tokens.
"""
