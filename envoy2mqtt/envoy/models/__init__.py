"""msgspec models: raw Envoy responses and the normalised :class:`EnvoyData`."""
