"""The Trajectories area: a filterable table of stored trajectories and a detail view."""
