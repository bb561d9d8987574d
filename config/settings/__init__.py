"""Settings profiles: base (development and embedded use), test, production."""
