"""The real Prometheus: our remote-write encoding, stale markers, out-of-order writes, cleanup."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from harness.engine import STALE_NAN, find_binary, prometheus_server, query_range, write
from harness.errors import BinaryNotFound, PrometheusStartError

pytestmark = pytest.mark.prometheus
T0 = 1_767_623_400  # unix seconds


def test_written_samples_read_back_and_a_stale_marker_ends_the_series_at_once() -> None:
    foo = (
        (("__name__", "foo"), ("job", "x")),
        [(T0 * 1000 + i * 15_000, float(i)) for i in range(4)] + [(T0 * 1000 + 60_000, STALE_NAN)],
    )
    with prometheus_server() as prom, httpx.Client() as client:
        write(client, prom.url, [foo])
        result = query_range(client, prom.url, "foo", T0, T0 + 120, 15)
    # Without the stale marker the last value would be returned for 5 minutes of lookback.
    assert sorted(result) == [(T0 + i * 15) * 1000 for i in range(4)]
    assert [v for ((_, v),) in (result[k] for k in sorted(result))] == [0.0, 1.0, 2.0, 3.0]


def test_samples_older_than_the_newest_are_accepted_out_of_order() -> None:
    with prometheus_server() as prom, httpx.Client() as client:
        write(client, prom.url, [((("__name__", "late"),), [(T0 * 1000 + 3_600_000, 2.0)])])
        write(client, prom.url, [((("__name__", "late"),), [(T0 * 1000, 1.0)])])
        result = query_range(client, prom.url, "late", T0, T0, 15)
    assert result == {T0 * 1000: [((("__name__", "late"),), 1.0)]}


def test_server_is_stopped_and_its_folder_removed_even_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError), prometheus_server() as prom:
        pid, folder = prom.process.pid, prom.data_dir.parent
        raise RuntimeError("boom")
    assert not folder.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_interrupt_stops_the_server_too() -> None:
    # A process started in the background by a non-interactive shell inherits SIGINT ignored:
    # install Python's own handler so Ctrl-C means KeyboardInterrupt here, however pytest started.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), prometheus_server() as prom:
            process = prom.process
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert process.poll() is not None


def test_missing_binary_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BinaryNotFound, match="apt-get install prometheus"):
        find_binary("prometheus")
    monkeypatch.setenv("ALERTDRILL_PROMTOOL", "/nonexistent/promtool")
    with pytest.raises(BinaryNotFound, match="ALERTDRILL_PROMTOOL"):
        find_binary("promtool")


def test_a_prometheus_that_will_not_start_is_reported_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "prometheus"
    fake.write_text("#!/bin/sh\necho 'err: opening storage failed: disk on fire' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("ALERTDRILL_PROMETHEUS", str(fake))
    keep = tmp_path / "run"
    with pytest.raises(PrometheusStartError, match="disk on fire"), prometheus_server(keep_log_in=keep):
        pass
    assert "disk on fire" in (keep / "prometheus.log").read_text()


def test_duplicate_alert_labels_are_an_error_not_a_silent_pick(tmp_path: Path) -> None:
    from harness.backtest import backtest
    from harness.engine import SampleSet
    from harness.errors import DuplicateAlertError

    samples = SampleSet(T0)
    for instance in ("a", "b"):
        samples.add((("__name__", "foo"), ("instance", instance)), T0 * 1000, 1.0)
    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: X\n    expr: foo\n    labels: {instance: same}\n")
    with pytest.raises(DuplicateAlertError, match="same labels"):
        backtest([rules], samples, T0, T0 + 60, interval=15)


def _own_metric(client: httpx.Client, url: str, name: str) -> float:
    """A counter from Prometheus' own /metrics (not a query: the TSDB's bookkeeping)."""
    for line in client.get(f"{url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in Prometheus' /metrics")


def test_the_head_is_never_compacted_while_a_run_queries_it() -> None:
    """Samples spanning more than 1.5 blocks (3 h by default) make the head compactable, and a
    compaction that runs while a query reads the head fails that query ("cannot populate chunk
    ... from block ... not found", seen on a 3.5 h scenario) or hides samples from it. A run's
    samples all stay in the head: a day of them, written after the fact, triggers no compaction."""
    day = [(T0 * 1000 + i * 60_000, float(i)) for i in range(24 * 60 + 1)]
    with prometheus_server() as prom, httpx.Client() as client:
        write(client, prom.url, [((("__name__", "long"),), day)])
        write(client, prom.url, [((("__name__", "long"),), [(T0 * 1000 - 3_600_000, -60.0)])])  # out of order
        result = query_range(client, prom.url, "long", T0, T0 + 24 * 3600, 3600)
        time.sleep(1.5)  # a compaction is started right after the append that made the head compactable
        triggered = _own_metric(client, prom.url, "prometheus_tsdb_compactions_triggered_total")
        truncations = _own_metric(client, prom.url, "prometheus_tsdb_head_truncations_total")
    assert len(result) == 25
    assert (triggered, truncations) == (0.0, 0.0)
