"""Model backends, chosen by a model spec string (DESIGN.md §3)."""
