"""Helpers for mutbot's tests: sample target repositories made into real git repos."""
