"""Preference training jobs (DPO, pairwise-judged GRPO) run as separate processes.

`python -m trainer.dpo` and `python -m trainer.grpo` print one JSON line per event on stdout
(see `trainer.progress`); the app launches them through `mosaic_studio.jobs`. This package never
imports `mosaic_studio`, and imports torch/transformers/trl/peft only inside `main()`.
"""
