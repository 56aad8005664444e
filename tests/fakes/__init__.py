"""Fake platform servers on 127.0.0.1 that the real platform clients talk to in tests."""
