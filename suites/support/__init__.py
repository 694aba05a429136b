"""Helpers only the suites use: assertions, routes, scripted answers, feature and price tables,
fuzzing strategies."""
