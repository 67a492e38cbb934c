"""The Judge area: run a judge over unlabelled pairs and compare it with human labels."""
