"""The Train area: launch preference-training jobs, watch their curves, list adapters."""
