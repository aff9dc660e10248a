"""The truth: scraping on the simulated clock, the real Prometheus engine, verdicts, run folders."""
