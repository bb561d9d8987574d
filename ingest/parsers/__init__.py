"""Pure parsers: bytes (and the name they came from) in, records out. No ORM, no network, no settings."""
