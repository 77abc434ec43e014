"""What a run found, in short: for the Prefect artifacts a data engineer reads in the UI
(flows/), and the webhook message an office gets (notify.py).

Pure functions over the published dataset and the run record. Report text (file names, bodies)
ends up in Markdown that Prefect's UI renders, so it is escaped for Markdown and HTML there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from giodq.publish import store
from giodq.publish.sources import report_id
from giodq.review.states import DISMISSED
from giodq.settings import settings
from giodq.validate.rules import BY_ID, SEVERITY_ZH

KIND_ZH = {"run": "全区检查", "rerun": "重新检查", "unchanged": "全区检查（无变化）", "review": "审核结论更新"}
# Markdown's markup characters in report text, shown as their full-width forms: Prefect's UI renders
# the artifact's Markdown and shows backslash escapes and character references literally in tables
# and links, so this is the one way its text stays text (an underscore inside a word is no markup).
_MD_SAFE = str.maketrans({"[": "［", "]": "］", "(": "（", ")": "）", "<": "＜", ">": "＞", "*": "＊", "`": "｀",
                          "|": "｜", "#": "＃", "!": "！", "~": "～", "\\": "＼", "&": "＆", "{": "｛", "}": "｝"})


def md(text) -> str:
    """Report text as literal Markdown (no link, no HTML, no table cell break) for Prefect's UI."""
    return " ".join(str(text).translate(_MD_SAFE).split())


def site_url(out: str) -> str | None:
    """Where a reviewer opens the site: GIODQ_SITE_URL when set (a bucket served over HTTP), else
    a folder's file:// address; None for a bucket without one."""
    base = settings().site_url
    if base:
        return base.rstrip("/") + "/"
    if store.is_s3(out):
        return None
    return (Path(out) / "data_docs").as_uri() + "/"


@dataclass
class Summary:
    kind: str
    title: str                                   # 全区检查 2025-02-03 / 重新检查 某某.pdf
    inputs: int
    failed: list[dict]
    by_severity: dict[str, int]                  # not dismissed
    by_rule: dict[tuple[str, str], int]          # (rule, severity) -> findings not dismissed
    top: list[dict]                              # the ten reports with most errors
    new: pd.DataFrame                            # findings not in the previous release
    resolved: list[dict]                         # decisions the run resolved
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    site: str | None = None


def summarise(out: str, record: dict, reports: pd.DataFrame, findings: pd.DataFrame,
              previous_ids: set[str] | None) -> Summary:
    """The run's summary. ``previous_ids``: the finding ids of the release before this run (None
    on the first run: every finding is new)."""
    live = findings[findings["state"] != DISMISSED] if "state" in findings else findings
    counts = live.groupby(["report", "severity"]).size().unstack(fill_value=0) if len(live) else pd.DataFrame()
    top = []
    if len(counts):
        counts = counts.reindex(columns=["error", "warning"], fill_value=0).sort_values(
            ["error", "warning"], ascending=False, kind="stable")
        body = dict(zip(reports["report"], reports["body"]))
        base = site_url(out)
        for report, row in counts.head(10).iterrows():
            top.append({"report": report, "body": body.get(report) if isinstance(body.get(report), str) else None,
                        "errors": int(row["error"]), "warnings": int(row["warning"]),
                        "page": f"{base}reports/{report_id(report)}.html" if base else None})
    new = findings if previous_ids is None else findings[~findings["finding_id"].isin(previous_ids)]
    review = record.get("review") or {}
    date = str(record.get("started", ""))[:10]
    title = f"{KIND_ZH.get(record.get('kind'), '检查')} {date}" + (f" {record['rerun']}" if record.get("rerun") else "")
    return Summary(kind=record.get("kind", "run"), title=title, inputs=int(record.get("inputs", 0)),
                   failed=list(record.get("failed") or []),
                   by_severity={k: int(v) for k, v in live.groupby("severity").size().items()},
                   by_rule={k: int(v) for k, v in live.groupby(["rule", "severity"]).size().items()},
                   top=top, new=new, resolved=list(review.get("resolved") or []),
                   changed=list(record.get("changed") or []), removed=list(record.get("removed") or []),
                   site=site_url(out))


def markdown(s: Summary) -> str:
    """The run's Markdown artifact."""
    errors, warnings = s.by_severity.get("error", 0), s.by_severity.get("warning", 0)
    lines = [f"# {md(s.title)}", "",
             f"读取 {s.inputs} 个文件，无法读取 {len(s.failed)} 个；错误 **{errors}** 项，提示 **{warnings}** 项（不含误报）；"
             f"本次新出现 **{len(s.new)}** 项，已整改 **{len(s.resolved)}** 项。", ""]
    if s.site:
        lines += [f"[打开审阅页面]({s.site}index.html)", ""]
    if s.by_rule:
        lines += ["## 按规则", "", "| 规则 | 严重程度 | 数量 |", "|---|---|---|"]
        lines += [f"| {md(BY_ID[r].title)}（`{r}`） | {SEVERITY_ZH.get(sev, sev)} | {n} |"
                  for (r, sev), n in sorted(s.by_rule.items(), key=lambda kv: -kv[1]) if r in BY_ID]
        lines.append("")
    if s.top:
        lines += ["## 错误最多的报告", "", "| 报告 | 发布机构 | 错误 | 提示 |", "|---|---|---|---|"]
        for t in s.top:
            name = f"[{md(t['report'])}]({t['page']})" if t["page"] else md(t["report"])
            lines.append(f"| {name} | {md(t['body'] or '（未识别）')} | {t['errors']} | {t['warnings']} |")
        lines.append("")
    lines += ["## 与上次相比", "", f"- 新增或更改的文件：{len(s.changed)}", f"- 删除的文件：{len(s.removed)}",
              f"- 新出现的问题：{len(s.new)}", f"- 已整改的问题：{len(s.resolved)}"]
    lines += [f"- 无法读取：{md(f['report'])}（{md(f['error'])}）" for f in s.failed[:10]]
    return "\n".join(lines) + "\n"


def new_findings_table(s: Summary, limit: int = 500) -> list[dict]:
    """The table artifact: the findings this run found for the first time (at most ``limit``)."""
    rows = s.new.head(limit)
    return [{"问题编号": f.finding_id, "报告": f.report, "规则": f.rule, "严重程度": SEVERITY_ZH.get(f.severity, f.severity),
             "位置": f.where, "报告所写": f.observed, "应为": f.expected} for f in rows.itertuples()]


def finding_ids_at(out: str) -> set[str] | None:
    """The finding ids of the release current at OUT (before a run publishes its own), or None."""
    findings = store.read_table(out, "findings", ["finding_id"]) if store.current(out) else None
    if findings is None or "finding_id" not in findings:
        return None
    return set(findings["finding_id"].dropna())


# what summarise and the artifacts read of findings.parquet (not its messages, sentences and cells)
FINDING_COLUMNS = ["finding_id", "report", "rule", "severity", "where", "observed", "expected", "state"]


def of_release(out: str, record: dict, previous_ids: set[str] | None) -> Summary:
    """The summary of the release a run (or a rerun, or an unchanged run) left current at OUT."""
    # not the cells: a province's are millions of rows
    return summarise(out, record, store.read_table(out, "reports", ["report", "body"]),
                     store.read_table(out, "findings", FINDING_COLUMNS), previous_ids)
