"""Writing the known-deviations files: record them from runs, accept what moved."""
