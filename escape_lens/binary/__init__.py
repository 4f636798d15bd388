"""Allocation sites from a compiled Go ELF binary (pyelftools + capstone)."""
