"""pytest fixtures for code built on `amtopcon` (being built)."""
