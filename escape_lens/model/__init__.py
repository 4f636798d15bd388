"""The allocator model: what the Go runtime does with one heap allocation, per Go version."""
