"""One module per validation layer."""
