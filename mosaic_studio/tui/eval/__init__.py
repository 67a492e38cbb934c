"""The Eval area: metrics on the paper's axes per model, side by side."""
