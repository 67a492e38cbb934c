"""Labelling: pairs of trajectories, rubric and model judges, agreement, preference export.

Modules: `strategies` (the pair strategies by name), `pairs` (store pairs, the balanced
unlabelled queue), `pair_making` (`make_pairs` by strategy: samples, models, fork, reference,
references), `labels` (`record_judgment`, `undo_last`, `current_labels`), `verdict`
(`Verdict`, the `Judge` protocol), `rubric` (`RubricJudge`, over `sandboxes.preference`),
`model_judge` (`ModelJudge`, both orders), `service` (`make_judge`, `judge_pairs`),
`agreement` (kappas, confusion, position bias, `agreement_report`), `export`
(`export_preferences`: trl / kto / stepwise), `render` (stored trajectory → messages, text).
"""
