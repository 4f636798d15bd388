"""One module per compiler output format; each exposes lazy `iter_*` functions."""
