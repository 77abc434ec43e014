"""giodq command line: ``giodq run SOURCE --out OUT`` and ``giodq suites``."""
from __future__ import annotations

import argparse
import contextlib
import sys

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
    lines.append(f"数据集 dataset: {record['out'].rstrip('/')}/dataset")
    lines.append(f"审阅页面 Data Docs: {record['data_docs']}")
    return "\n".join(lines)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"需要正整数 (a whole number above 0): {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="giodq", description="Check 政府信息公开工作年度报告 files.")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="check every report under SOURCE, write dataset and Data Docs to OUT")
    run.add_argument("source", help="a folder of report files, or s3://bucket/prefix (endpoint and credentials "
                                    "from AWS_ENDPOINT_URL, AWS_PROFILE, ...)")
    run.add_argument("--out", required=True, help="output folder, or s3://bucket/prefix")
    run.add_argument("--batch-size", type=_positive, default=None, help="reports per extraction task")
    run.add_argument("--dask-address", default=None, help="run the tasks on this Dask cluster (tcp://host:8786)")
    again = sub.add_parser("rerun", help="re-check one report after a corrected upload; update OUT")
    again.add_argument("key", help="the report's key relative to SOURCE")
    again.add_argument("--source", required=True, help="the folder or s3://bucket/prefix the key is under")
    again.add_argument("--out", required=True, help="the output folder or s3://bucket/prefix of the district run")
    reviewing = sub.add_parser("review", help="审核结论 review decisions: the reviewer's workbook (Excel)")
    actions = reviewing.add_subparsers(dest="action", required=True)
    exp = actions.add_parser("export", help="导出审核工作簿 write the workbook of every finding at OUT")
    imp = actions.add_parser("import", help="导入审核结论 apply the decisions in a filled-in workbook")
    for a in (exp, imp):
        a.add_argument("out", help="the output folder or s3://bucket/prefix of the district run")
        a.add_argument("workbook", help="the .xlsx file")
    notices = sub.add_parser("notices", help="整改通知 one .docx per unit with confirmed findings, under OUT/notices/")
    notices.add_argument("out", help="the output folder or s3://bucket/prefix of the district run")
    suites = sub.add_parser("suites", help="regenerate expectations/*.json from the rule catalogue")
    suites.add_argument("--check", action="store_true", help="exit 1 if the committed files are stale")
    args = ap.parse_args(argv)

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

    from giodq import preflight
    from giodq.publish import lock

    out = preflight.store_uri(args.out)
    with contextlib.ExitStack() as held:
        try:   # a user's mistake: one line, at once, before Prefect starts
            if args.command == "rerun":
                preflight.check_rerun(args.key, args.source, out)
            else:
                preflight.check_run(args.source, out)
            # held for the whole run; the flow takes it again in this process (re-entrant)
            held.enter_context(lock.lock(out, f"rerun {args.key}" if args.command == "rerun" else "run"))
        except (preflight.CommandError, lock.OutBusy) as e:
            print(f"giodq: {e}", file=sys.stderr)
            return 2
        return _rerun(args, out) if args.command == "rerun" else _run(args, out)


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


def _rerun(args, out: str) -> int:
    apply_prefect_defaults()
    from flows.rerun import rerun

    try:
        record = rerun(key=args.key, source=args.source, out=out)
    except Exception as e:
        print(f"giodq: 重新检查失败 rerun failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"重新检查 rerun: {record['rerun']}")
    for label, items in (("新出现 appeared", record["appeared"]), ("已解决 resolved", record["resolved"])):
        print(f"{label}: {len(items)}" + "".join(f"\n  {i['report']} {i['rule']} {i['where']}" for i in items))
    print(f"审阅页面 Data Docs: {record['data_docs']}")
    return 0


def _run(args, out: str) -> int:
    apply_prefect_defaults()
    from flows.district_run import district_run

    try:
        record = district_run(source=args.source, out=out, batch_size=args.batch_size,
                              dask_address=args.dask_address)
    except Exception as e:  # the run itself could not proceed (no bucket, no access): say so, exit non-zero
        print(f"giodq: 运行失败 run failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(_summary(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
