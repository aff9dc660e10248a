"""Alert-threshold tuning from evidence: rule variants evaluated by the real Prometheus over a
corpus of recorded runs, scored against the faults the runs injected (docs/tuning.md)."""
