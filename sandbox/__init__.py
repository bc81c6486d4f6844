"""Assets that run in or around sandboxes (the load generator runs in its own process)."""
