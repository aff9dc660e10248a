"""The ``alertdrill`` command. Exit codes: 0 pass, 1 expectations failed, 2 usage or configuration error."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from harness.errors import AlertdrillError, ConfigurationError

EXIT_PASSED, EXIT_FAILED = 0, 1  # and 2: AlertdrillError.exit_code, or argparse's usage error


def _cmd_run(args: argparse.Namespace) -> int:
    from harness.report import ProgressPrinter, summary
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    scenario, base_dir = load_scenario(args.scenario)
    if args.report or args.business_review:
        from harness.notebooks import require_report_stack

        require_report_stack()
    seed = scenario.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / f"{scenario.name}-seed{seed}"
    listener = None if args.quiet else ProgressPrinter()
    if not args.quiet:
        print(f"running {scenario.name} (seed {seed}, {scenario.duration / 60:g} simulated min)", file=sys.stderr)
    service = args.service_url or ("spawn" if args.spawn else "in-process")
    result = run_scenario(
        scenario,
        base_dir,
        seed=seed,
        out_dir=out,
        listener=listener,
        service=service,
        admin_token=_admin_token(args),
        replay_speed=args.replay_speed,
    )
    print(summary(result))
    if args.report:
        from harness.notebooks import run_report

        print(f"  report: {run_report(out)}")
    if args.business_review:
        from harness.notebooks import business_review

        print(f"  business review: {business_review([out], out / 'business_review.ipynb')}")
    return EXIT_PASSED if result.passed else EXIT_FAILED


def _cmd_drill(args: argparse.Namespace) -> int:
    if args.cleanup:
        from harness.drill_safety import cleanup

        journal = Path(args.out) / "journal.jsonl" if args.out else None
        for line in cleanup(args.service_url, _admin_token(args), journal):
            print(line)
        return EXIT_PASSED
    if args.scenario is None:
        raise ConfigurationError("drill: name a scenario file (or give --cleanup)")
    from harness.drill_print import DrillPrinter
    from harness.drill_run import DrillOptions, run_drill
    from harness.report import summary
    from harness.scenario import load_scenario

    scenario, base_dir = load_scenario(args.scenario)
    if args.report:
        from harness.notebooks import require_report_stack

        require_report_stack()
    token = _admin_token(args)
    if args.service_url and not token:
        raise ConfigurationError(
            "--service-url needs the service's admin token (--admin-token-file or $ALERTDRILL_ADMIN_TOKEN)"
        )
    seed = scenario.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / f"drill-{scenario.name}-seed{seed}"
    options = DrillOptions(
        seed=seed,
        service_url=args.service_url,
        admin_token=token,
        prometheus_url=args.prometheus_url,
        alertmanager_url=args.alertmanager_url,
        prometheus_config=Path(args.prometheus_config) if args.prometheus_config else None,
        job=args.job,
        alerts_match=args.alerts_match or "",
        live_receivers=args.live_receivers,
        abort_on=tuple(name for names in args.abort_on or () for name in names),
        compare=args.compare,
    )
    if not args.quiet:
        print(
            f"drilling {scenario.name} live (seed {seed}, {scenario.duration / 60:g} min of wall time); "
            f"journal: {out / 'journal.jsonl'}",
            file=sys.stderr,
        )
    result = run_drill(scenario, base_dir, out, options, None if args.quiet else DrillPrinter())
    print(summary(result))
    if args.compare and result.drill is not None:
        from harness.drill_compare import report

        print(report(result.drill))
    if args.report:
        from harness.notebooks import run_report

        print(f"  report: {run_report(out)}")
    return EXIT_PASSED if result.passed else EXIT_FAILED


def _seeds(text: str) -> list[int]:
    """``--seeds``: checked while parsing, so a bad value is a usage error (exit 2) that names it."""
    from harness.suite import parse_seeds

    try:
        return parse_seeds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _admin_token(args: argparse.Namespace) -> str | None:
    """``--admin-token-file``'s token, else ``$ALERTDRILL_ADMIN_TOKEN`` (read here, not as the
    option's default: argparse would pass a default through ``_token_file`` as a path)."""
    from harness.targets import ADMIN_TOKEN_ENV

    return args.admin_token if args.admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)


def _token_file(path: str) -> str:
    """``--admin-token-file``: the token is the file's first line. A secret is never taken on the
    command line, which every user of the machine can read in ``ps``."""
    try:
        token = Path(path).read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        raise argparse.ArgumentTypeError(f"{path}: cannot read an admin token from it ({exc})") from None
    if not token:
        raise argparse.ArgumentTypeError(f"{path}: its first line, the admin token, is empty")
    return token


def _seed(text: str) -> int:
    """``--seed``: a scenario's seed is 0 or more; a negative one would fail every run instead."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: seeds are 0 or more")
    return value


def _cmd_suite(args: argparse.Namespace) -> int:
    import shutil
    import time

    from harness.suite import Progress, default_jobs, exit_code, format_seeds, run_suite, suite_table

    folder = Path(args.folder)
    if not folder.is_dir():
        raise ConfigurationError(f"{folder}: not a folder of scenario files")
    out = Path(args.out)
    seeds: list[int] | None = args.seeds
    # A report notebook takes ~5 s a run: a sweep gets them only when asked; its analysis.ipynb always.
    reports = (seeds is None) if args.reports is None else bool(args.reports)
    analysis = args.reports is not False
    if reports or analysis or args.business_review:
        from harness.notebooks import require_report_stack

        require_report_stack()

    started = time.monotonic()
    jobs = args.jobs or default_jobs()
    live = sys.stderr.isatty()  # a terminal gets one status line, rewritten; a log a line every 30 s
    announced, last_status = False, 0.0

    def progress(p: Progress) -> None:
        nonlocal announced, last_status
        bar = "#" * round(24 * p.done / p.total)
        now = time.monotonic()
        line = f"[{bar:24}] {p.done}/{p.total} runs, {p.running} running {now - started:5.0f}s"
        entry = p.finished
        if not announced:  # submitted, nothing finished yet: say what is under way
            announced = True
            matrix = "" if seeds is None else f" x {len(seeds)} seeds ({format_seeds(seeds)})"
            scenarios = p.total // (1 if seeds is None else len(seeds))
            print(f"running {scenarios} scenarios{matrix} from {folder}, {p.running} at a time", file=sys.stderr)
            print(line, file=sys.stderr, flush=True)
            return
        if entry is None:  # runs under way: how far each has simulated
            if not p.under_way or (not live and now - last_status < 30):
                return
            last_status = now
            doing = ", ".join(f"{name} {done / 60:.0f}/{total / 60:.0f} min" for name, done, total in p.under_way)
            if live:
                print(
                    f"\r{line}  {doing}"[: shutil.get_terminal_size().columns] + "\x1b[K",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
            else:
                print(f"{line}  {doing}", file=sys.stderr, flush=True)
            return
        if live:
            print("\r\x1b[K", end="", file=sys.stderr)
        status = "pass" if entry.passed else ("ERROR" if entry.error else "FAIL")
        print(f"{line}  {entry.run_folder}: {status}", file=sys.stderr, flush=True)
        if entry.error is not None:
            print(f"  {entry.error}", file=sys.stderr)
        if entry.report_error is not None:
            print(f"  report notebook failed: {entry.report_error}", file=sys.stderr)

    entries = run_suite(
        folder,
        out,
        seed=args.seed,
        seeds=seeds,
        on_progress=progress,
        jobs=jobs,
        reports=reports,
        analysis=analysis,
        replay_speed=args.replay_speed,
    )
    print(suite_table(entries, by_seed=seeds is not None))
    notebooks = (["*/report.ipynb"] if reports else []) + (["analysis.ipynb"] if analysis else [])
    if args.business_review:
        from harness.notebooks import business_review

        try:  # over every run folder the suite wrote; the runs and their verdicts stand without it
            business_review([out / e.run_folder for e in entries if e.ran], out / "business_review.ipynb")
            notebooks.append("business_review.ipynb")
        except Exception as exc:
            print(f"alertdrill: business review notebook failed: {exc}", file=sys.stderr)
    print(f"run folders and suite.json in {out}" + (f"; reports: {', '.join(notebooks)}" if notebooks else ""))
    return exit_code(entries)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
    return value


def _speed(text: str) -> float:
    value = _positive(text)
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{text!r}: a replay speed is between 1 and 100000 times real time")
    return value


def _notify_options(parser: argparse.ArgumentParser) -> None:
    from harness.notify import DEFAULT_SPEED

    notify = parser.add_mutually_exclusive_group()
    notify.add_argument(
        "--replay-speed",
        type=_speed,
        default=DEFAULT_SPEED,
        metavar="K",
        help="replay the alerts through the real Alertmanager K times faster than real time "
        f"(default: {DEFAULT_SPEED:g})",
    )
    notify.add_argument(
        "--no-notify",
        dest="replay_speed",
        action="store_const",
        const=None,
        help="no Alertmanager replay: alerts only, no notifications (and no notification expectations judged)",
    )


def _count(text: str) -> int:
    value = _positive(text)
    if value != int(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number")
    return int(value)


def _timestamp(text: str) -> float:
    """Unix seconds or an RFC 3339 time with a timezone."""
    import datetime as dt

    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither Unix seconds nor an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a timezone, e.g. 2026-01-05T14:30:00Z")
    return parsed.timestamp()


def _cmd_backtest(args: argparse.Namespace) -> int:
    from harness.backtest import backtest, fetch_series, load_series, write_backtest
    from harness.engine import parse_duration

    try:
        interval = parse_duration(args.interval)
    except ValueError as exc:
        raise ConfigurationError(f"--interval: {exc}") from None
    if args.from_prometheus:
        if args.start is None or args.end is None or not args.match:
            raise ConfigurationError("--from-prometheus needs --match SELECTOR, --start and --end")
        samples = fetch_series(args.from_prometheus, args.match, args.start, args.end)
    else:
        samples = load_series(Path(args.series))
    out = Path(args.out)
    result = backtest([Path(p) for p in args.rules], samples, args.start, args.end, interval, log_dir=out)
    write_backtest(result, out)
    alerts = [a for t in result.evaluation.timelines for a in t.instances]
    fired = [a for a in alerts if a.fired_at is not None]
    print(
        f"evaluated {len(result.evaluation.timelines)} alerting rules over "
        f"{result.window.duration / 3600:.2f} h: {len(alerts)} alert instances, {len(fired)} fired"
    )
    for a in fired:
        print(f"  {a.alertname:24} fired {(a.fired_at or 0) + result.window.start_unix:.0f}  {dict(a.labels)}")
    print(f"alerts.json and states.csv in {out}")
    return EXIT_FAILED if fired and args.fail_on_firing else EXIT_PASSED


def _cmd_tune(args: argparse.Namespace) -> int:
    from harness.tuning.grid import load_tuning_file
    from harness.tuning.tune import apply_recommended, table, tune

    def progress(done: int, total: int, name: str) -> None:
        print(f"  [{done}/{total}] {name}", file=sys.stderr, flush=True)

    corpus, grid, out = Path(args.corpus), Path(args.grid), Path(args.out)
    if not corpus.is_dir():
        raise ConfigurationError(f"{corpus}: no such corpus folder (a suite's output: alertdrill suite ... --out)")
    print(
        f"tuning {grid} over {corpus} on {args.scheduler or f'{args.workers} local Dask workers'} ...", file=sys.stderr
    )
    if args.report or args.workbook:
        from harness.notebooks import require_report_stack

        require_report_stack()
    scored = tune(corpus, grid, out, workers=args.workers, scheduler=args.scheduler, progress=progress)
    print(table(scored))
    print(f"tune.json and variants.yml in {out}")
    if args.report:
        from harness.notebooks import tuning_report

        print(f"executed {tuning_report(out)}")
    if args.workbook:
        from harness.notebooks import workbook_report

        print(f"executed {workbook_report(out, corpus, load_tuning_file(grid).grace)}")
    if args.apply:
        written = apply_recommended(scored, grid, out)
        for path in written:
            print(f"recommended thresholds written to {path} (annotations that quote a threshold are not rewritten)")
        if not written:
            print(
                "--apply: every recommendation is the rule as configured (or none met the constraints); nothing written"
            )
    return EXIT_PASSED


def _cmd_crosscheck(args: argparse.Namespace) -> int:
    from harness.stack.crosscheck import crosscheck_run_folder

    folder = Path(args.run_folder)
    keep = folder / "crosscheck_test.yml" if args.keep else None
    check = crosscheck_run_folder(folder, keep_test_file=keep)
    print(check.output)
    print(
        f"{'agrees' if check.passed else 'DISAGREES'}: promtool compared {check.checks} "
        f"(evaluation time, alert) pairs with alertdrill's timeline" + (f"; test file: {keep}" if keep else "")
    )
    if check.skipped:
        print(f"not compared (they read the calendar, promtool's clock starts in 1970): {', '.join(check.skipped)}")
    for name, reason in check.unread:
        print(f"not compared ({reason}; whether it reads the calendar is unknown): {name}")
    return EXIT_PASSED if check.passed else EXIT_FAILED


def _cmd_train(args: argparse.Namespace) -> int:
    import time

    from harness.train import regime_table, train, write_artifact
    from sim.regimes import REGIMES

    if args.regime not in REGIMES:
        raise ConfigurationError(f"--regime {args.regime!r}: not a regime (regimes: {', '.join(REGIMES)})")
    trained_at = time.time() if args.trained_at is None else args.trained_at
    print(f"training on {args.samples} draws of the {args.regime} market (seed {args.seed}) ...", file=sys.stderr)
    artifact, held_out = train(args.seed, args.samples, args.regime, trained_at)
    try:
        write_artifact(artifact, Path(args.out))
    except OSError as exc:
        raise ConfigurationError(f"--out {args.out}: cannot write the artifact: {exc.strerror}") from exc
    print(f"wrote {args.out}: version {artifact['version']}")
    print(
        f"held out ({args.regime}): accuracy {held_out.accuracy:.3f}, "
        f"mean confidence {held_out.confidence:.3f}, calibration error {held_out.ece:.3f}"
    )
    if args.report:
        print(f"\n{'market':32} {'strength':>8} {'accuracy':>8} {'confidence':>10} {'ECE':>6}")
        for name, strength, q in regime_table(artifact, args.seed):
            print(f"{name:32} {strength:8.2f} {q.accuracy:8.3f} {q.confidence:10.3f} {q.ece:6.3f}")
    return EXIT_PASSED


def _cmd_notify(args: argparse.Namespace) -> int:
    from harness.whatif import what_if, what_if_table

    config = Path(args.alertmanager_config)
    print(f"replaying {args.run_folder}'s alerts through {config} ...", file=sys.stderr)
    print(what_if_table(what_if(Path(args.run_folder), config, args.replay_speed), config))
    return EXIT_PASSED


def _cmd_check_config(args: argparse.Namespace) -> int:
    from harness.stack.check_config import check_project

    root = Path(args.project)
    print(f"checking the monitoring stack in {root.resolve()} ...", file=sys.stderr)
    findings = check_project(root)
    for finding in findings:
        print(finding)
    faults = sum(not f.warning for f in findings)
    warned = f", {len(findings) - faults} warning(s)" if len(findings) > faults else ""
    if faults:
        print(f"{faults} finding(s){warned}")
        return EXIT_FAILED
    print(
        "config OK: rules, Prometheus and Alertmanager configs, rule tests, routes, runbooks, queries and metric names"
        + warned
    )
    return EXIT_PASSED


def _cmd_coverage(args: argparse.Namespace) -> int:
    from harness.stack.coverage import coverage

    rules = [Path(p) for p in args.rules]
    for path in rules:
        if not path.is_file():
            raise ConfigurationError(f"{path}: rule file not found")
    folders = [Path(p) for p in args.folders]
    rows = coverage(rules, folders)
    width = max(len(r.alert) for r in rows) if rows else 10
    print(f"{'alert':{width}}  {'fired by':48} held silent by")
    for r in rows:
        fired = ", ".join(r.firing) or "NOTHING"
        print(f"{r.alert:{width}}  {fired:48} {len(r.silent)} scenario(s)")
    missing = [r.alert for r in rows if not r.firing]
    if missing:
        print(f"\nno scenario makes these fire: {', '.join(missing)}")
        return EXIT_FAILED
    print(f"\nevery one of {len(rows)} alert rules is fired by at least one scenario")
    return EXIT_PASSED


def _cmd_serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from harness.engine import check_bindable
    from service import Settings, SimulatedClock, WallClock, create_app
    from service.model import ModelFileError
    from service.serving import ServeError, serve

    given = {
        "symbols": args.symbols,
        "sources": args.sources,
        "scale_out_rps": args.scale_out_rps,
        "max_body_bytes": args.max_body_bytes,
        "chaos_max_faults": args.chaos_max_faults,
        "chaos_max_delay_seconds": args.chaos_max_delay,
    }
    try:
        settings = Settings(
            sim_clock=args.sim_clock,
            admin_token=_admin_token(args),
            chaos_seed=args.chaos_seed,
            cpu_cores=args.cpu_cores,
            access_log=not args.no_access_log,
            model_path=args.model,
            **{name: value for name, value in given.items() if value is not None},
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"serve: {problems}") from exc
    clock = SimulatedClock() if args.sim_clock else WallClock()
    try:
        app = create_app(settings, clock)
    except ModelFileError as exc:
        raise ConfigurationError(f"--model: {exc}") from exc
    try:
        check_bindable(args.host, args.port)
        serve(app, args.host, args.port, access_log=False, log_level=args.log_level)
    except OSError as exc:
        raise ConfigurationError(f"--host {args.host} --port {args.port}: cannot listen there: {exc.strerror}") from exc
    except ServeError as exc:
        raise ConfigurationError(f"--host {args.host} --port {args.port}: {exc}") from exc
    return EXIT_PASSED


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated list (``--symbols AAPL,MSFT``)."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list of names")
    return names


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alertdrill")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="alertdrill", description=__doc__)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one scenario and judge its expectations")
    run.add_argument("scenario", help="scenario file (YAML)")
    run.add_argument("--seed", type=_seed, help="override the scenario's seed (default: the scenario's, else 0)")
    run.add_argument("--out", help="run folder (default: runs/<scenario>-seed<N>)")
    run.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    run.add_argument("--report", action="store_true", help="also execute the report notebook into the run folder")
    run.add_argument(
        "--business-review",
        action="store_true",
        help="also execute the trading desk's daily business review into the run folder (business_review.ipynb)",
    )
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "--spawn",
        action="store_true",
        help="run the service as its own uvicorn process (started and stopped by alertdrill)",
    )
    where.add_argument(
        "--service-url",
        metavar="URL",
        help="drive a service started with `alertdrill serve --sim-clock` (fresh, same --chaos-seed)",
    )
    run.add_argument(
        "--admin-token-file",
        dest="admin_token",
        type=_token_file,
        metavar="FILE",
        help="file holding the admin token of the service at --service-url (default: $ALERTDRILL_ADMIN_TOKEN)",
    )
    _notify_options(run)
    run.set_defaults(func=_cmd_run)

    dr = sub.add_parser(
        "drill",
        help="a game-day drill: the scenario live, in real time, against a real stack (yours or one it starts)",
    )
    dr.add_argument("scenario", nargs="?", help="scenario file (YAML)")
    dr.add_argument("--seed", type=_seed, help="override the scenario's seed")
    dr.add_argument("--out", help="run folder (default: runs/drill-<scenario>-seed<N>)")
    dr.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    dr.add_argument("--report", action="store_true", help="also execute the report notebook into the run folder")
    dr.add_argument(
        "--compare",
        action="store_true",
        help="also run the scenario simulated and compare fire/resolve times, within a stated bound",
    )
    dr.add_argument(
        "--service-url", metavar="URL", help="drive your service (started with `alertdrill serve`, wall clock)"
    )
    dr.add_argument(
        "--admin-token-file",
        dest="admin_token",
        type=_token_file,
        metavar="FILE",
        help="file holding the admin token of --service-url (default: $ALERTDRILL_ADMIN_TOKEN)",
    )
    dr.add_argument(
        "--prometheus-url", metavar="URL", help="your Prometheus, already scraping the service with your rules"
    )
    dr.add_argument("--alertmanager-url", metavar="URL", help="your Alertmanager: alertdrill reads its alerts (API v2)")
    dr.add_argument(
        "--prometheus-config",
        metavar="FILE",
        help="the Prometheus config the drill's own Prometheus runs (default: the scenario's `prometheus`)",
    )
    dr.add_argument("--job", help="the scrape job the service is (default: the config's only job, or prediction-api)")
    dr.add_argument(
        "--alerts-match",
        metavar="SELECTOR",
        help="narrow ALERTS on a shared Prometheus, e.g. '{job=\"prediction-api\"}'",
    )
    dr.add_argument(
        "--live-receivers",
        action="store_true",
        help="Alertmanager sends to the config's own receivers (a real page), not alertdrill's; not judged",
    )
    dr.add_argument(
        "--abort-on",
        type=_names,
        action="append",
        metavar="ALERT[,ALERT...]",
        help="switch every fault off at once, and end the drill, if one of these alerts fires (repeatable)",
    )
    dr.add_argument(
        "--cleanup",
        action="store_true",
        help="after a drill was killed: remove its temp folders, and switch off at --service-url the faults "
        "its journal (in --out) left on (without --out, every chaos fault there)",
    )
    dr.set_defaults(func=_cmd_drill)

    suite = sub.add_parser("suite", help="run every scenario in a folder (for each of several seeds) and summarise")
    suite.add_argument("folder", nargs="?", default="scenarios", help="folder of scenario files (default: scenarios)")
    seeding = suite.add_mutually_exclusive_group()
    seeding.add_argument("--seed", type=_seed, help="override every scenario's seed")
    seeding.add_argument(
        "--seeds",
        type=_seeds,
        metavar="SPEC",
        help="run every scenario for each of these seeds, e.g. 0-19, 0,3,7 or 0-4,9 (run folders <scenario>-seed<N>)",
    )
    suite.add_argument("--out", default="runs/suite", help="where the run folders go (default: runs/suite)")
    suite.add_argument("-j", "--jobs", type=_count, help="runs at once (default: one per core)")
    notebooks = suite.add_mutually_exclusive_group()
    notebooks.add_argument(
        "--reports",
        action="store_true",
        default=None,
        help="a report notebook in every run folder (the default without --seeds)",
    )
    notebooks.add_argument(
        "--no-reports",
        dest="reports",
        action="store_false",
        default=None,
        help="no report notebooks, neither per run nor analysis.ipynb (--business-review still writes its own)",
    )
    suite.add_argument(
        "--business-review",
        action="store_true",
        help="also execute the trading desk's daily business review over every run into the suite folder "
        "(business_review.ipynb; also with --no-reports)",
    )
    _notify_options(suite)
    suite.set_defaults(func=_cmd_suite)

    nt = sub.add_parser(
        "notify", help="what-if: replay a run folder's alerts through another Alertmanager config, side by side"
    )
    nt.add_argument("run_folder", help="a run folder written by `alertdrill run` (with notifications)")
    nt.add_argument(
        "--alertmanager-config",
        required=True,
        metavar="FILE",
        help="the Alertmanager config to try (receivers are replaced by alertdrill's stand-ins)",
    )
    nt.add_argument(
        "--replay-speed",
        type=_speed,
        default=1000.0,
        metavar="K",
        help="replay K times faster than real time (default: 1000)",
    )
    nt.set_defaults(func=_cmd_notify)

    bt = sub.add_parser("backtest", help="evaluate rule files over recorded series")
    bt.add_argument("--rules", nargs="+", required=True, metavar="FILE", help="rule files")
    source = bt.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--series", metavar="FILE", help="a run folder's samples.parquet, or OpenMetrics text (timestamps in seconds)"
    )
    source.add_argument("--from-prometheus", metavar="URL", help="read the series from a running Prometheus")
    bt.add_argument("--match", nargs="+", metavar="SELECTOR", help="series to read with --from-prometheus")
    bt.add_argument("--start", type=_timestamp, help="first evaluation (Unix seconds or RFC 3339)")
    bt.add_argument("--end", type=_timestamp, help="last evaluation")
    bt.add_argument("--interval", default="1m", help="evaluation interval of groups that set none (default 1m)")
    bt.add_argument("--out", required=True, help="folder for alerts.json and states.csv")
    bt.add_argument("--fail-on-firing", action="store_true", help="exit 1 when any alert fired")
    bt.set_defaults(func=_cmd_backtest)

    tu = sub.add_parser("tune", help="score alert-rule variants over a corpus of runs: precision, recall, detection")
    tu.add_argument("corpus", help="folder of run folders (alertdrill suite ... --seeds 0-19 --out CORPUS)")
    tu.add_argument("--grid", required=True, help="tuning file: the alerts and the values to try (docs/tuning.md)")
    tu.add_argument("--out", default="runs/tune", help="folder for tune.json and variants.yml (default runs/tune)")
    tu.add_argument(
        "--workers", type=_count, default=os.cpu_count() or 1, help="local Dask workers (default: one per core)"
    )
    tu.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler to use instead, e.g. tcp://host:8786")
    tu.add_argument("--apply", action="store_true", help="write the recommended variants into a copy of each rule file")
    tu.add_argument(
        "--report", action=argparse.BooleanOptionalAction, default=True, help="execute notebooks/tuning.ipynb (default)"
    )
    tu.add_argument(
        "--workbook",
        action="store_true",
        help="also execute notebooks/workbook_slo.ipynb: the SRE Workbook's table, measured "
        "(with --grid tuning/workbook/approaches.yaml over a corpus of scenarios/workbook)",
    )
    tu.set_defaults(func=_cmd_tune)

    cc = sub.add_parser("crosscheck", help="prove a run folder's alert timeline with promtool test rules")
    cc.add_argument("run_folder")
    cc.add_argument("--keep", action="store_true", help="keep the generated test file in the run folder")
    cc.set_defaults(func=_cmd_crosscheck)

    chk = sub.add_parser("check-config", help="check the monitoring stack in config/ with promtool and amtool")
    chk.add_argument("project", nargs="?", default=".", help="project folder holding config/ (default: .)")
    chk.set_defaults(func=_cmd_check_config)

    cov = sub.add_parser("coverage", help="which scenarios fire, and which silence, each alert rule")
    cov.add_argument("folders", nargs="*", default=["scenarios"], help="scenario folders (default: scenarios)")
    cov.add_argument("--rules", nargs="+", default=["config/prometheus-alerts.yml"], help="rule files")
    cov.set_defaults(func=_cmd_coverage)

    tr = sub.add_parser("train", help="fit the factor model on the simulated calm market and write its artifact")
    tr.add_argument(
        "--out", default="model.json", help="artifact path (default: model.json; the shipped one is config/model.json)"
    )
    tr.add_argument("--seed", type=int, default=0, help="seed of the training draws (default 0)")
    tr.add_argument("--samples", type=_count, default=100_000, help="training draws (default 100000)")
    tr.add_argument("--regime", default="calm", help="market regime to train on (default calm)")
    tr.add_argument(
        "--trained-at", type=_timestamp, help="training time recorded in the artifact (default: now; Unix or RFC 3339)"
    )
    tr.add_argument("--report", action="store_true", help="print the model's quality in every regime")
    tr.set_defaults(func=_cmd_train)

    serve = sub.add_parser("serve", help="run the prediction service under uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.add_argument("--sim-clock", action="store_true", help="honour X-Sim-Time (driven by a simulator)")
    serve.add_argument(
        "--admin-token-file",
        dest="admin_token",
        type=_token_file,
        metavar="FILE",
        help="enable the admin/chaos API with the bearer token in FILE (default: $ALERTDRILL_ADMIN_TOKEN; "
        "without either, no admin API)",
    )
    serve.add_argument("--chaos-seed", type=int, default=0, help="seed of the failed-request picker (default: 0)")
    serve.add_argument("--cpu-cores", type=float, help="cores the service reports (default: this machine's)")
    serve.add_argument("--log-level", default="info", help="uvicorn's own log level (default: info)")
    serve.add_argument(
        "--model",
        help="model artifact (JSON) to serve, e.g. config/model.json (default: a built-in logistic model "
        "without training references, so no drift score)",
    )
    serve.add_argument("--scale-out-rps", type=_positive, help="the autoscaler's per-replica target (default 800)")
    serve.add_argument("--no-access-log", action="store_true", help="no ECS JSON line per request on stdout")
    serve.add_argument(
        "--symbols",
        type=_names,
        help="symbols the feature pipeline may publish, comma-separated "
        "(default: AAPL,MSFT,NVDA,AMZN,GOOG,META,TSLA,SPY,QQQ)",
    )
    serve.add_argument("--sources", type=_names, help="upstream sources taken (default: market-feed,unknown)")
    serve.add_argument("--max-body-bytes", type=_count, help="largest request body; 413 beyond (default 8 MiB)")
    serve.add_argument("--chaos-max-faults", type=_count, help="chaos faults active at once (default 16)")
    serve.add_argument("--chaos-max-delay", type=_positive, help="seconds of injected delay in all (default 60)")
    serve.set_defaults(func=_cmd_serve)
    return p


REPEATED_SIGNAL = 2.0  # seconds: a second signal sooner than this is the first one again


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    received: list[tuple[int, float]] = []

    def interrupt(signum: int, frame: object) -> None:
        """SIGINT and SIGTERM alike: KeyboardInterrupt at once, wherever the run is (asyncio's
        own SIGINT handler would only cancel the run's task at its next await, and a simulation
        or an evaluation can go seconds without one), so every process and folder it holds is
        let go on the way out.

        A signal soon after the one being handled is the same interruption arriving twice (a
        suite's worker gets the terminal's Ctrl-C and then the suite's SIGTERM): raised again,
        it would cut short the cleanup the first one started."""
        now = time.monotonic()
        if received and now - received[-1][1] < REPEATED_SIGNAL:
            return
        received.append((signum, now))
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        return int(args.func(args))
    except AlertdrillError as exc:
        print(f"alertdrill: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `alertdrill ... | head`: the reader has gone, say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE  # as a shell reports a pipeline cut short
    except KeyboardInterrupt:
        signum = received[0][0] if received else signal.SIGINT
        print(f"alertdrill: interrupted ({signal.Signals(signum).name}); stopped what it had started", file=sys.stderr)
        return 128 + signum
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
