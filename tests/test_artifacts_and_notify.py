"""The end of a run, where the office and the engineer already look: Prefect artifacts (read back
from a real Prefect server's API) and webhook notifications (to an HTTP server on 127.0.0.1 that
records what it received, and one path that answers 500: the run still completes)."""
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import SAMPLES
from giodq.publish import notify
from giodq.publish.summary import md

S004 = "004_47717d3cd7e0ea5b.txt"


class Recorder(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):   # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Recorder.received.append((self.path, json.loads(body)))
        self.send_response(500 if self.path.startswith("/broken") else 200)
        self.end_headers()
        self.wfile.write(b'{"errcode": 0}')

    def log_message(self, *args):
        pass


@pytest.fixture()
def webhooks(monkeypatch):
    Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("GIODQ_NOTIFY_URLS", ",".join([f"wecom:{base}/wecom?key=secret", f"dingtalk:{base}/ding",
                                                       f"feishu:{base}/feishu", f"{base}/plain", f"{base}/broken"]))
    yield Recorder.received
    server.shutdown()


def test_a_run_tells_the_webhooks_and_leaves_artifacts(prefect_harness, webhooks, tmp_path, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.district_run import district_run
    from flows.rerun import rerun

    # keys of this test's own: the session's server holds the other tests' runs' artifacts too
    monkeypatch.setenv("GIODQ_ARTIFACT_PREFIX", "told")
    src = tmp_path / "src"
    shutil.copytree(SAMPLES, src)
    out = str(tmp_path / "out")
    record = district_run(source=str(src), out=out)
    assert record["kind"] == "run"                                       # the 500 did not fail it
    got = {path.split("?")[0]: body for path, body in webhooks}
    assert set(got) == {"/wecom", "/ding", "/feishu", "/plain", "/broken"}
    assert got["/wecom"]["msgtype"] == "markdown" and "错误 1 项" in got["/wecom"]["markdown"]["content"]
    assert got["/ding"]["msgtype"] == "markdown" and got["/ding"]["markdown"]["title"].startswith("giodq 全区检查")
    assert got["/feishu"]["msg_type"] == "text" and "新出现 4 项" in got["/feishu"]["content"]["text"]
    plain = got["/plain"]
    assert (plain["inputs"], plain["errors"], plain["warnings"], plain["new_findings"]) == (5, 1, 3, 4)
    assert plain["site"].startswith("file://") and plain["site"].endswith("/data_docs/")

    # a unit corrects 004: the rerun's artifacts say so, under the same keys
    text = (SAMPLES / S004).read_text(encoding="utf-8").replace("收到申请公开政府信息 2 件", "收到申请公开政府信息 6 件")
    (src / S004).write_text(text, encoding="utf-8")
    rerun(key=S004, source=str(src), out=out)
    with get_client(sync_client=True) as client:
        runs = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["told-run"])))
        tables = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["told-new-findings"])))
    assert len(runs) == 2 and len(tables) == 2                            # one per run: the UI keeps the history
    first, second = sorted(runs, key=lambda a: a.created)
    assert first.type == "markdown" and "# 全区检查" in first.data and "错误 **1** 项" in first.data
    assert "正文数字与表格不符" in first.data and md(S004) in first.data   # the top reports, linked
    assert "/data_docs/reports/" in first.data
    assert "# 重新检查" in second.data and "错误 **0** 项" in second.data
    table = sorted(tables, key=lambda a: a.created)[0]
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert {r["规则"] for r in rows} == {"narrative.count", "narrative.percent", "form.placeholder", "form.tables"}


def test_payloads_and_targets():
    assert notify.targets("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x, json:http://h/p,"
                          "https://oapi.dingtalk.com/robot/send?access_token=y, https://open.feishu.cn/hook/z") == [
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"), ("json", "http://h/p"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=y"), ("feishu", "https://open.feishu.cn/hook/z")]
    assert notify._safe("https://qyapi.weixin.qq.com/send?key=secret") == "https://qyapi.weixin.qq.com/send"


def test_report_text_is_literal_markdown():
    assert md("[x](javascript:alert(1)) <img src=x>|a\nb") == "［x］（javascript:alert（1）） ＜img src=x＞｜a b"
    assert md("004_a.txt") == "004_a.txt"


def test_the_summary_reads_only_the_columns_it_shows(tmp_path, monkeypatch):
    """The end of a run reads the release back for its artifacts: not the reports' sentence digests
    nor the findings' cells and messages (a province's digests as Python strings are ~100 MB), and
    the summary is the one the whole tables give."""
    import pyarrow.parquet as pq

    from giodq import pipeline
    from giodq.publish import store, summary

    record = pipeline.run(str(SAMPLES), tmp_path / "out")
    out = str(tmp_path / "out")
    whole = summary.summarise(out, record, store.read_table(out, "reports"), store.read_table(out, "findings"), None)
    decoded, reading = [], pq.read_table

    def recorded(source, columns=None, **kwargs):
        table = reading(source, columns=columns, **kwargs)
        decoded.append(table.schema.names)
        return table

    monkeypatch.setattr(pq, "read_table", recorded)
    lean = summary.of_release(out, record, None)
    assert decoded == [["report", "body"], summary.FINDING_COLUMNS]
    assert whole.new[summary.FINDING_COLUMNS].equals(lean.new[summary.FINDING_COLUMNS])
    assert (whole.top, whole.by_rule, whole.by_severity) == (lean.top, lean.by_rule, lean.by_severity)
    assert summary.markdown(whole) == summary.markdown(lean)
    assert summary.new_findings_table(whole) == summary.new_findings_table(lean)
