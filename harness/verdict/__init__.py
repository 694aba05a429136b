"""Verdict: the requirements catalogue, fingerprints, known-deviations files, the classes and the
run comparison."""
