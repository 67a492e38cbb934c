"""The Run area: pick scenarios and models, watch trajectories live, cancel."""
