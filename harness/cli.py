"""The ``alertdrill`` command. Exit codes: 0 pass, 1 expectations failed, 2 usage or configuration error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.errors import AlertdrillError, ConfigurationError

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _cmd_run(args: argparse.Namespace) -> int:
    from harness.report import ProgressPrinter, summary
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    scenario, base_dir = load_scenario(args.scenario)
    seed = scenario.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / f"{scenario.name}-seed{seed}"
    listener = None if args.quiet else ProgressPrinter()
    if not args.quiet:
        print(f"running {scenario.name} (seed {seed}, {scenario.duration / 60:g} simulated min)", file=sys.stderr)
    result = run_scenario(scenario, base_dir, seed=seed, out_dir=out, listener=listener)
    print(summary(result))
    return EXIT_PASSED if result.passed else EXIT_FAILED


def _cmd_suite(args: argparse.Namespace) -> int:
    from harness.suite import SuiteEntry, exit_code, run_suite, suite_table

    folder = Path(args.folder)
    if not folder.is_dir():
        raise ConfigurationError(f"{folder}: not a folder of scenario files")
    out = Path(args.out)

    def done(entry: SuiteEntry, i: int, n: int) -> None:
        status = "pass" if entry.passed else ("ERROR" if entry.error else "FAIL")
        print(f"[{i}/{n}] {entry.path.stem}: {status}", file=sys.stderr, flush=True)
        if entry.error is not None:
            print(f"  {entry.error}", file=sys.stderr)

    entries = run_suite(folder, out, seed=args.seed, on_done=done)
    print(suite_table(entries))
    print(f"run folders and suite.json in {out}")
    return exit_code(entries)


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service import Settings, SimulatedClock, WallClock, create_app

    settings = Settings(sim_clock=args.sim_clock, admin_token=args.admin_token, chaos_seed=args.chaos_seed)
    clock = SimulatedClock() if args.sim_clock else WallClock()
    uvicorn.run(create_app(settings, clock), host=args.host, port=args.port, access_log=False, log_level=args.log_level)
    return EXIT_PASSED


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="alertdrill", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one scenario and judge its expectations")
    run.add_argument("scenario", help="scenario file (YAML)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--out", help="run folder (default: runs/<scenario>-seed<N>)")
    run.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    run.set_defaults(func=_cmd_run)

    suite = sub.add_parser("suite", help="run every scenario in a folder and summarise")
    suite.add_argument("folder", nargs="?", default="scenarios", help="folder of scenario files (default: scenarios)")
    suite.add_argument("--seed", type=int, help="override every scenario's seed")
    suite.add_argument("--out", default="runs/suite", help="where the run folders go (default: runs/suite)")
    suite.set_defaults(func=_cmd_suite)

    serve = sub.add_parser("serve", help="run the prediction service under uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--sim-clock", action="store_true", help="honour X-Sim-Time (driven by a simulator)")
    serve.add_argument("--admin-token", help="enable the admin/chaos API with this bearer token")
    serve.add_argument("--chaos-seed", type=int, default=0)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AlertdrillError as exc:
        print(f"alertdrill: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("alertdrill: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
