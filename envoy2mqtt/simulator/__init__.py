"""A simulated Envoy (plus fake Enlighten) serving captured fixtures, with fault injection.

Import from the modules (kept import-light on purpose: ``fixture_store`` is used by code
that must not pull in the server): ``server.EnvoySimulator``, ``faults.Fault``/``FaultKind``,
``fixture_store.FixtureMode``, ``tokens.EnlightenAccount``, ``requestlog.LoggedRequest``.
"""
