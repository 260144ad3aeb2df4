"""MCP servers' tools for the model: configured (config), run for the kernel's life (servers), called (tools)."""
