"""giodq command line: ``giodq run SOURCE --out OUT`` and ``giodq suites``."""
from __future__ import annotations

import argparse
import contextlib
import sys

# Cache the bytecode of what giodq imports, even where PYTHONDONTWRITEBYTECODE is set (this machine
# does): without it, every command compiles GX, Prefect and pandas again (~15 s a call).
sys.dont_write_bytecode = False

from giodq.settings import apply_prefect_defaults


def _summary(record: dict) -> str:
    if record.get("kind") == "unchanged":
        return (f"没有变化 nothing changed: {record['inputs']} reports as the current dataset read them "
                f"(run {record['dataset_run_id'][:8]}); nothing redone\n审阅页面 Data Docs: {record['data_docs']}")
    lines = [
        f"读取报告 reports read: {record['inputs']}  (ok {record['ok']}, failed {len(record['failed'])}, "
        f"new or changed {len(record.get('changed', []))}, removed {len(record.get('removed', []))})",
    ]
    for f in record["failed"]:
        lines.append(f"  失败 failed: {f['report']}: {f['error']}")
    by_rule = record["findings"]["by_rule"]
    lines.append(f"发现问题 findings: {record['findings']['total']}"
                 + "".join(f"\n  {rule}: {n}" for rule, n in sorted(by_rule.items())))
    if record.get("rules_not_assessed"):
        lines.append("未评估的规则 rules not assessed: " + ", ".join(r["rule"] for r in record["rules_not_assessed"]))
    district = record.get("district") or {}
    if district.get("coverage"):
        from giodq.district.coverage import STATUS_ZH

        lines.append(f"发布情况 coverage ({'名册 roster ' + str(district['roster']) if district.get('roster') else '无名册 no roster'}"
                     f"; 年度 years {', '.join(map(str, district.get('years', [])))}): "
                     + "，".join(f"{STATUS_ZH.get(k, k)} {k} {v}" for k, v in sorted(district["coverage"].items())))
    lines.append(f"数据集 dataset: {record['out'].rstrip('/')}/dataset")
    lines.append(f"审阅页面 Data Docs: {record['data_docs']}")
    return "\n".join(lines)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"需要正整数 (a whole number above 0): {text!r}")
    return int(text)


class _Parser(argparse.ArgumentParser):
    """A mistake on the command line is one line and exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message}（giodq --help 查看用法 / see giodq --help）\n")


def _parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    ap = _Parser(prog="giodq", description="检查政府信息公开工作年度报告 · check government information "
                                          "disclosure annual reports (政府信息公开工作年度报告)")
    ap.add_argument("--version", action="version", version=f"giodq {version('giodq')}")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="检查 SOURCE 下的全部报告 · check every report under SOURCE, write the "
                                     "dataset and the site to OUT")
    run.add_argument("source", help="报告文件夹或 s3://bucket/prefix · a folder of report files, or "
                                    "s3://bucket/prefix (endpoint and credentials from AWS_ENDPOINT_URL, AWS_PROFILE, ...)")
    run.add_argument("--out", required=True, help="输出文件夹或 s3://bucket/prefix · output folder, or s3://bucket/prefix")
    run.add_argument("--batch-size", type=_positive, default=None, help="每个提取任务的报告数 · reports per extraction task")
    run.add_argument("--dask-address", default=None, help="在该 Dask 集群上运行 · run the tasks on this Dask "
                                                          "cluster (tcp://host:8786)")
    again = sub.add_parser("rerun", help="单位上传更正文件后重新检查一份报告 · re-check one report after a "
                                         "corrected upload; update OUT")
    again.add_argument("key", help="报告在 SOURCE 中的文件名 · the report's key relative to SOURCE")
    again.add_argument("--source", required=True, help="报告所在的文件夹或 s3://bucket/prefix · the folder or "
                                                       "s3://bucket/prefix the key is under")
    again.add_argument("--out", required=True, help="全区检查的输出 · the output folder or s3://bucket/prefix of "
                                                    "the district run")
    for command in (run, again):
        command.add_argument("--roster", default=None,
                             help="应公开年度报告的单位名册（.csv 或 .xlsx，路径或 s3://）· the roster of units that "
                                  "must publish (GIODQ_ROSTER; a rerun defaults to the run's)")
        command.add_argument("--years", default=None,
                             help="检查发布情况的年度，如 2024 或 2022-2024 · the years coverage is drawn for "
                                  "(GIODQ_YEARS; default: the years of the reports)")
        command.add_argument("--quiet", action="store_true", help="不显示进度 · no progress bar")
        command.add_argument("--fail-on", choices=("error", "warning"), default=None,
                             help="发现该级别（不含误报）的问题时以 3 退出 · exit 3 when findings (not dismissed) "
                                  "reach this severity")
    reviewing = sub.add_parser("review", help="审核结论：审核工作簿（Excel） · review decisions: the reviewer's workbook")
    actions = reviewing.add_subparsers(dest="action", required=True, parser_class=_Parser)
    exp = actions.add_parser("export", help="导出审核工作簿 · write the workbook of every finding at OUT")
    imp = actions.add_parser("import", help="导入审核结论 · apply the decisions in a filled-in workbook")
    for a in (exp, imp):
        a.add_argument("out", help="全区检查的输出 · the output folder or s3://bucket/prefix of the district run")
        a.add_argument("workbook", help="工作簿 · the .xlsx file")
    notices = sub.add_parser("notices", help="整改通知：每个有“已确认”问题的单位一份 Word 文件 · one .docx per unit "
                                             "with confirmed findings, under OUT/notices/")
    notices.add_argument("out", help="全区检查的输出 · the output folder or s3://bucket/prefix of the district run")
    opening = sub.add_parser("open", help="在浏览器中打开审阅页面 · open the reviewers' site in a browser")
    opening.add_argument("out", help="全区检查的输出 · the output folder or s3://bucket/prefix")
    suites = sub.add_parser("suites", help="由规则目录重新生成 expectations/*.json · regenerate the GX suites "
                                           "from the rule catalogue")
    suites.add_argument("--check", action="store_true", help="过期时以 1 退出 · exit 1 if the committed files are stale")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "open":
        return _open(args.out)
    if args.command == "suites":
        from giodq.validate.suites import stale_suites, write_suites
        if args.check:
            stale = stale_suites()
            print("suites up to date" if not stale else f"stale suites: {', '.join(stale)} (run `giodq suites`)")
            return 1 if stale else 0
        for p in write_suites():
            print(f"wrote {p}")
        return 0

    if args.command in ("review", "notices"):
        return _review(args)

    # Prefect's temporary server starts now, while the command is checked and the libraries load
    apply_prefect_defaults()
    from giodq.prefect_server import start_early

    server = start_early()
    code = _checked(args, server)
    if server and code == 2:   # the command was refused before Prefect was used: stop it now
        server.stop()
    # otherwise it stops at exit, after Prefect has sent the run's last logs and events (atexit, LIFO)
    return code


def _checked(args, server) -> int:
    from giodq import preflight
    from giodq.publish import lock

    out = preflight.store_uri(args.out)
    if args.command == "rerun":   # the key as the user sees it in the bucket or folder
        from giodq.ingest import key_as_given
        args.key = key_as_given(args.source, args.key)
    with contextlib.ExitStack() as held:
        try:   # a user's mistake: one line, at once, before Prefect starts
            if args.command == "rerun":
                preflight.check_rerun(args.key, args.source, out)
            else:
                preflight.check_run(args.source, out)
            _check_district(args)
            # held for the whole run; the flow takes it again in this process (re-entrant)
            held.enter_context(lock.lock(out, f"rerun {args.key}" if args.command == "rerun" else "run"))
        except (preflight.CommandError, lock.OutBusy) as e:
            print(f"giodq: {e}", file=sys.stderr)
            return 2
        return _rerun(args, out, server) if args.command == "rerun" else _run(args, out, server)


def _review(args) -> int:
    """The reviewer's commands: quick, no Prefect; a mistake or a refused workbook is exit 2."""
    from giodq.preflight import CommandError
    from giodq.publish.lock import OutBusy
    from giodq.review import commands

    try:
        if args.command == "notices":
            written = commands.write_notices(args.out)
            print(f"整改通知 notices: {len(written)}" + "".join(f"\n  {w}" for w in written))
            return 0
        if args.action == "export":
            rows = commands.export_workbook(args.out, args.workbook)
            print(f"审核工作簿 workbook: {args.workbook}（{rows} 个问题 findings）")
            return 0
        result = commands.import_workbook(args.out, args.workbook)
    except (CommandError, OutBusy) as e:
        print(f"giodq: {e}", file=sys.stderr)
        return 2
    print(result.receipt, end="", file=sys.stderr if result.errors else sys.stdout)
    return 2 if result.errors else 0


def _with_progress(args, work):
    """Run ``work()`` with a progress bar on a terminal (not with --quiet, not when piped)."""
    from giodq import progress

    if args.quiet or not sys.stderr.isatty():
        return work()
    with progress.RichSink() as sink:
        progress.use(sink)
        try:
            return work()
        finally:
            progress.use(None)


def _check_district(args) -> None:
    """The roster and the years, read and checked before any report is (RosterError, CommandError)."""
    from giodq.preflight import district_of, store_uri

    if args.command == "rerun":   # the run's roster, or a refusal of another one
        from giodq.district.scope import district_for_rerun
        from giodq.publish import store

        out = store_uri(args.out)
        district_for_rerun(out, args.roster, args.years, store.current(out) or {})
    else:
        district_of(args.roster, args.years)


def _ready(server) -> None:
    if server:
        from giodq.settings import settings

        server.wait(settings().prefect_startup_timeout_s)


def _load_stages() -> None:
    """GX and the stages that use it, loaded here while the server starts: the flow's module leaves
    them out, for the extraction workers' sake (the note in giodq/pipeline.py)."""
    import giodq.publish.docs  # noqa: F401
    import giodq.validate.run  # noqa: F401


def _rerun(args, out: str, server=None) -> int:
    from flows.rerun import rerun
    from giodq.prefect_server import flow_settings

    _load_stages()
    try:
        _ready(server)
        with flow_settings(server):
            record = _with_progress(args, lambda: rerun(key=args.key, source=args.source, out=out,
                                                        roster=args.roster, years=args.years))
    except Exception as e:
        print(f"giodq: 重新检查失败 rerun failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"重新检查 rerun: {record['rerun']}")
    for label, items in (("新出现 appeared", record["appeared"]), ("已解决 resolved", record["resolved"])):
        print(f"{label}: {len(items)}" + "".join(f"\n  {i['report']} {i['rule']} {i['where']}" for i in items))
    print(f"审阅页面 Data Docs: {record['data_docs']}")
    return _exit_for_findings(args, out)


def _run(args, out: str, server=None) -> int:
    from flows.district_run import district_run
    from giodq.prefect_server import flow_settings

    _load_stages()
    try:
        _ready(server)
        with flow_settings(server):
            record = _with_progress(args, lambda: district_run(source=args.source, out=out,
                                                               batch_size=args.batch_size,
                                                               dask_address=args.dask_address, roster=args.roster,
                                                               years=args.years))
    except Exception as e:  # the run itself could not proceed (no bucket, no access): say so, exit non-zero
        print(f"giodq: 运行失败 run failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(_summary(record))
    return _exit_for_findings(args, out)


def _exit_for_findings(args, out: str) -> int:
    """0, or 3 with --fail-on when findings that are not dismissed reach that severity."""
    if not args.fail_on:
        return 0
    from giodq.publish import store

    findings = store.read_table(out, "findings", ["severity", "state"])
    live = findings[findings["state"] != "dismissed"] if "state" in findings else findings
    severities = ("error",) if args.fail_on == "error" else ("error", "warning")
    n = int(live["severity"].isin(severities).sum())
    if n:
        print(f"giodq: 发现 {n} 项{'错误' if args.fail_on == 'error' else '错误或提示'}（--fail-on {args.fail_on}）",
              file=sys.stderr)
    return 3 if n else 0


def _open(out: str) -> int:
    """Open the site's index in the default browser (a folder), or say where it is (a bucket)."""
    import webbrowser
    from pathlib import Path

    from giodq.publish import store
    from giodq.publish.summary import site_url

    if not store.is_s3(out) and not (Path(out) / "data_docs" / "index.html").is_file():
        print(f"giodq: {out} 中还没有审阅页面，请先运行 giodq run (no site at OUT yet)", file=sys.stderr)
        return 2
    url = site_url(out if store.is_s3(out) else str(Path(out).resolve()))
    if url is None:
        print(f"审阅页面在 {out.rstrip('/')}/data_docs/index.html；设置 GIODQ_SITE_URL 后可直接打开 "
              "(the site is in the bucket; set GIODQ_SITE_URL to the address it is served at)")
        return 0
    print(f"审阅页面 Data Docs: {url}index.html")
    webbrowser.open(f"{url}index.html")
    return 0


def entry() -> None:
    """The console script: ``main()``, then what the interpreter does at exit (wait for threads, run
    the exit handlers: Prefect sends its last logs and events, the temporary server stops, temporary
    folders go), then the process ends without tearing the interpreter down: with GX, Prefect and
    pandas loaded, freeing every module's objects one by one takes ~2 s and changes nothing."""
    import atexit
    import os
    import threading

    code = main()
    # the interpreter's own exit steps, in its order (Python 3.11): threads and threading's exit
    # callbacks (Prefect's log and event workers drain to the server here), then atexit's
    threading._shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
