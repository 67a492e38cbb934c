"""The Label area: compare two trajectories of a scenario and record which is better."""
