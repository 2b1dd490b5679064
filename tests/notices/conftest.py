"""The notice layout tests use the session's real browser: `chromium` in tests/conftest.py."""
