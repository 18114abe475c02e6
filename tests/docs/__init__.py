"""Tests of the documentation: every Python block and example runs."""
