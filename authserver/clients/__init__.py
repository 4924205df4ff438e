"""OAuth clients: registration, secrets (stored as digests), lookups with a short in-process cache."""
