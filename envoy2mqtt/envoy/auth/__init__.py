"""Authentication against the Envoy: legacy digest (FW < 7) and JWT tokens (FW >= 7)."""
