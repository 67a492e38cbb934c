"""Labelling: pairs of trajectories, rubric and model judges, agreement, preference export.

Modules: `pairs` (make pairs, the unlabelled queue), `labels` (`record_judgment`,
`undo_last`), `rubric` (`RubricJudge`), `model_judge` (`ModelJudge`), `service`
(`judge_pairs`), `agreement`, `export` (`export_preferences`), `render`.
"""
