"""The signal matrix of issue 11: SIGINT, SIGTERM and SIGKILL at each phase of a run, in-process
and with ``--spawn``; after each, no process it started and no temporary folder may be left.

    .venv/bin/python tests/benchmarks/hostile_signals.py [--scenario-duration 1h]

Each cell starts ``alertdrill run`` on ``steady_state`` (of the given length), sends the signal
when the run announces the phase (``simulate``, ``write``, ``evaluate``, ``record``), and
prints the exit code (130 / 143 / -9 when the signal landed in time; 0 when the run had already
finished that phase and the rest), the processes and folders left, and whether a run folder
exists. A SIGKILLed run's Prometheus folder is removed by the next run, which the script checks
by starting one more run in the same TMPDIR at the end. Not a test: two dozen runs, minutes.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere
from tests.scenarios.test_interrupts import Alertdrill, scenario

PHASES = ("simulate", "write", "evaluate", "record")
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
MODES = ((), ("--spawn",))


def main() -> None:
    p = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--scenario-duration", default="1h", help="how long the steady_state run is")
    args = p.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="alertdrill-signals-") as tmp:
        root = Path(tmp)
        path = scenario(root, args.scenario_duration)
        print(f"{'mode':10} {'signal':8} {'phase':9} {'exit':>5}  left")
        for mode in MODES:
            for signum in SIGNALS:
                for phase in PHASES:
                    cell = root / f"{'spawn' if mode else 'inproc'}-{signum.name}-{phase}"
                    cell.mkdir()
                    run = Alertdrill(cell, "run", str(path), "--out", str(cell / "out"), *mode)
                    run.wait_for(f"  {phase} ...", timeout=600)
                    run.process.send_signal(signum)
                    code, _ = run.finish(timeout=60)
                    processes = run.leftovers()
                    folders = [f.name for f in run.tmp.iterdir()]
                    complete = (cell / "out" / "verdict.json").exists()
                    partial = [f.name for f in cell.iterdir() if f.name.startswith(".out.")]
                    killed = signum is signal.SIGKILL
                    # A SIGKILL leaves Prometheus' folder for the next run to sweep; nothing else may stay.
                    wrong = processes or partial or (folders and not killed)
                    bad += bool(wrong)
                    print(
                        f"{'spawn' if mode else 'in-process':10} {signum.name:8} {phase:9} {code:5}  "
                        f"processes {len(processes)}, temp folders {len(folders)}, "
                        f"run folder {'complete' if complete else 'absent'}"
                        + (f", PARTIAL {partial}" if partial else "")
                        + ("  <-- WRONG" if wrong else "")
                    )
                    if killed and folders:
                        sweep = Alertdrill(cell, "run", str(path), "--out", str(cell / "again"))
                        sweep.finish(timeout=600)
                        left = [f.name for f in sweep.tmp.iterdir()]
                        print(f"{'':29}next run in the same TMPDIR leaves {len(left)} temp folders")
                        bad += bool(left)
    print(f"\n{bad} cell(s) left something behind")


if __name__ == "__main__":
    main()
