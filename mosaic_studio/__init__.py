"""MOSAIC Studio: run agents in a sandbox, watch them act or refuse, label, judge and train."""

__version__ = "0.1.0"
