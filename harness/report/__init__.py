"""The compatibility report: results gathered from pytest's hooks, written as JSON, rendered to
HTML."""
