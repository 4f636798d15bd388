"""escape-lens: every heap allocation in Go code, and what the Go runtime does with it."""

__version__ = "0.1.0"
