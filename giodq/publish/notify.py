"""At the end of a run, a short message to the webhooks an office uses: 企业微信, 钉钉 or 飞书
robots (each in its own JSON), a plain JSON POST, or a Prefect notification block.

A notification that fails is logged and never fails the run: the run's results are published
before anyone is told about them.
"""
from __future__ import annotations

import logging
from urllib.parse import urlparse

import httpx

from giodq.publish.summary import Summary
from giodq.settings import settings

log = logging.getLogger(__name__)
KINDS = ("wecom", "dingtalk", "feishu", "json")
_HOSTS = {"qyapi.weixin.qq.com": "wecom", "oapi.dingtalk.com": "dingtalk", "open.feishu.cn": "feishu",
          "open.larksuite.com": "feishu"}


def targets(setting: str) -> list[tuple[str, str]]:
    """GIODQ_NOTIFY_URLS -> [(kind, url)]: a ``kind:`` prefix, else the robot's host, else json."""
    out = []
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        kind, _, rest = item.partition(":")
        if kind in KINDS and rest.startswith("http"):
            out.append((kind, rest))
        else:
            out.append((_HOSTS.get(urlparse(item).hostname or "", "json"), item))
    return out


def text(s: Summary) -> str:
    """The message, in a few lines (Markdown the robots render)."""
    errors, warnings = s.by_severity.get("error", 0), s.by_severity.get("warning", 0)
    lines = [f"**giodq {s.title}**",
             f"文件 {s.inputs} 个（无法读取 {len(s.failed)} 个）；错误 {errors} 项，提示 {warnings} 项",
             f"新出现 {len(s.new)} 项，已整改 {len(s.resolved)} 项"]
    if s.site:
        lines.append(f"审阅页面：{s.site}index.html")
    return "\n".join(lines)


def payload(kind: str, s: Summary) -> dict:
    """The JSON body each kind of webhook takes."""
    body = text(s)
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": body}}
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": f"giodq {s.title}", "text": body}}
    if kind == "feishu":
        return {"msg_type": "text", "content": {"text": body.replace("**", "")}}
    return {"source": "giodq", "title": s.title, "kind": s.kind, "inputs": s.inputs, "failed": len(s.failed),
            "errors": s.by_severity.get("error", 0), "warnings": s.by_severity.get("warning", 0),
            "new_findings": len(s.new), "resolved": len(s.resolved), "site": s.site, "text": body}


def notify(s: Summary) -> list[dict]:
    """Tell every configured webhook; returns what each answered (for the run's log)."""
    config = settings()
    results = []
    for kind, url in targets(config.notify_urls):
        try:
            answer = httpx.post(url, json=payload(kind, s), timeout=config.notify_timeout_s)
            answer.raise_for_status()
            results.append({"kind": kind, "url": _safe(url), "status": answer.status_code})
        except httpx.HTTPError as e:
            log.warning("notification to %s failed: %s", _safe(url), e)
            results.append({"kind": kind, "url": _safe(url), "error": str(e)[:200]})
    if config.notify_block:
        results.append(_block(config.notify_block, s))
    return results


def _block(name: str, s: Summary) -> dict:
    try:
        from prefect.blocks.notifications import NotificationBlock

        NotificationBlock.load(name).notify(text(s), subject=f"giodq {s.title}")
        return {"kind": "block", "block": name, "status": "sent"}
    except Exception as e:   # any failure of a block the office configured: logged, never the run's
        log.warning("notification through Prefect block %s failed: %s", name, e)
        return {"kind": "block", "block": name, "error": str(e)[:200]}


def _safe(url: str) -> str:
    """A webhook's address without its secret (robots put their key in the query)."""
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
