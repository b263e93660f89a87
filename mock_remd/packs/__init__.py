"""Official validation packs: installing them (import, download) into a packs directory."""
