"""Reports are untrusted input: regression tests, one per way a hostile or careless unit broke a
run (issue "no file may run code, escape SOURCE, empty the site or split a release"). Extraction
limits (zip members, text size, nesting, encrypted PDFs) are in test_hostile_extract.py, the
generated names and bodies in test_fuzz_hostile.py, duplicates in test_duplicates.py."""
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, ROOT, SAMPLES
from giodq.cli import main
from giodq.pipeline import run
from giodq.preflight import CommandError
from giodq.publish.lock import OutBusy
from giodq.rerun import rerun

SEED_004 = "004_47717d3cd7e0ea5b.txt"


def _samples(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for p in SAMPLES.iterdir():
        shutil.copy(p, folder / p.name)
    return folder


def _reports(out: Path):
    return pq.read_table(out / "dataset" / "reports.parquet").to_pandas().set_index("report")


def _site_text(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in (out / "data_docs").rglob("*.html"))


# 1, 2: report text and file names are never templates; a site GX cannot draw fails the run -------

def test_report_text_and_names_are_never_evaluated_as_templates(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    seed = (SAMPLES / "000_11add77ccab5606b.txt").read_text(encoding="utf-8")
    payload = "{{ cycler.__init__.__globals__.os.popen(dict(id=1)|first).read() }}"
    (src / "a.txt").write_text(f"发布机构\tX{{{{ 7*7 }}}}Y{payload}\n{seed}", encoding="utf-8")
    shutil.copy(SAMPLES / "001_183f359fdb579c94.txt", src / "report{#1.txt")   # an unclosed Jinja comment
    shutil.copy(SAMPLES / "002_40523efafb065443.txt", src / "b{% raw %}.txt")
    out = tmp_path / "out"
    run(str(src), out)
    index = (out / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert len(index) > 10_000
    site = _site_text(out)
    assert "X49Y" not in site and "uid=" not in site
    assert "X{{ 7*7 }}Y" in index                         # shown as written, in the report list
    assert "report{#1.txt" in index and "b{% raw %}.txt" in index
    assert set(_reports(out).index) == {"a.txt", "report{#1.txt", "b{% raw %}.txt"}


def test_a_site_gx_cannot_draw_fails_the_run_and_keeps_the_previous_release(tmp_path, monkeypatch):
    src, out = _samples(tmp_path / "src"), tmp_path / "out"
    first = run(str(src), out)
    before = (out / "dataset" / "reports.parquet").read_bytes()
    from giodq.publish.gx_views import GiodqIndexPageView

    def broken(self, *args, **kwargs):
        raise RuntimeError("a template GX cannot render")

    monkeypatch.setattr(GiodqIndexPageView, "render", broken)   # GX logs this and goes on
    (src / "new.txt").write_bytes((SAMPLES / SEED_004).read_bytes())
    with pytest.raises(RuntimeError, match="index page"):
        run(str(src), out)
    assert json.loads((out / "run.json").read_text())["run_id"] == first["run_id"]
    assert (out / "dataset" / "reports.parquet").read_bytes() == before
    assert (out / "data_docs" / "index.html").stat().st_size > 10_000
    assert not list((out / "releases").glob(".tmp-*"))


# 3, 4: inputs are exactly the regular files under SOURCE ------------------------------------------

def test_rerun_refuses_a_key_outside_source(tmp_path, capsys):
    src, out = _samples(tmp_path / "src"), tmp_path / "out"
    run(str(src), out)
    before = (out / "dataset" / "reports.parquet").read_bytes()
    with pytest.raises(CommandError, match="SOURCE 之外"):
        rerun("../../../../../etc/passwd", str(src), out)
    assert main(["rerun", "../../../../../etc/passwd", "--source", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SOURCE 之外" in err and "Traceback" not in err
    assert (out / "dataset" / "reports.parquet").read_bytes() == before
    assert not any("passwd" in p.name for p in (out / "data_docs" / "sources").iterdir())


def test_links_out_of_source_and_special_files_are_failed_inputs_never_read(tmp_path):
    src = _samples(tmp_path / "src")
    secret = tmp_path / "secret.txt"
    secret.write_bytes((SAMPLES / SEED_004).read_bytes())   # readable as a report, if it were followed
    (src / "p.txt").symlink_to(secret)
    (src / "passwd.txt").symlink_to("/etc/passwd")
    (src / "dangling.txt").symlink_to(src / "gone.txt")
    (src / "inside.txt").symlink_to(src / SEED_004)              # a link within SOURCE is read
    (src / "sub").mkdir()
    (src / "sub" / "etc").symlink_to("/etc", target_is_directory=True)
    os.mkfifo(src / "fifo.txt")                                   # would hang a read that opens it blocking
    out = tmp_path / "out"
    record = run(str(src), out)
    reports = _reports(out)
    failed = reports[reports["status"] == "failed"]["error"].to_dict()
    assert set(failed) == {"p.txt", "passwd.txt", "dangling.txt", "sub/etc", "fifo.txt"}
    assert all(e.startswith("refused:") for e in failed.values())
    assert "SOURCE 之外" in failed["p.txt"] and "SOURCE 之外" in failed["sub/etc"]
    assert "不存在" in failed["dangling.txt"] and "不是普通文件" in failed["fifo.txt"]
    assert reports.loc["inside.txt", "status"] == "ok"
    assert record["inputs"] == 5 + 6
    assert "root:x:0" not in _site_text(out)
    sources = out / "data_docs" / "sources"
    assert not any(p.read_bytes() == secret.read_bytes() for p in sources.iterdir() if p.suffix == ".pdf")
    assert len(list(sources.iterdir())) == 6                      # the samples and the inside link only


# 5: source copies in the site cannot run ----------------------------------------------------------

HOSTILE_PAGE = """<html><head><meta http-equiv="refresh" content="0;url=http://example.invalid/">
<script>window.__pwned = 1</script><link rel="stylesheet" href="http://example.invalid/x.css"></head>
<body onload="window.__pwned = 2"><p style="background:url(http://example.invalid/bg.png)">发布机构：某某镇人民政府</p>
<img src="http://example.invalid/pixel.png" onerror="window.__pwned = 3"><a href="javascript:window.__pwned=4">x</a>
<iframe src="http://example.invalid/"></iframe><table><tr><td colspan="2">一、本年新收政府信息公开申请数量</td></tr></table>
</body></html>"""


def test_source_copies_are_text_or_sanitised_or_downloads(tmp_path, page):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(FIXTURES / "shuyang-drc-2023.html", src)
    shutil.copy(FIXTURES / "shuyang-drc-2023.docx", src)
    (src / "hostile.html").write_text(HOSTILE_PAGE, encoding="utf-8")
    # named .html, but text: copied as .txt, so its script is shown, never run
    (src / "looks-like-a-page.html").write_bytes(
        b"<script>window.__pwned=5</script>\n" + (SAMPLES / SEED_004).read_bytes())
    out = tmp_path / "out"
    run(str(src), out)
    sources = out / "data_docs" / "sources"
    copies = {p.suffix: p for p in sources.iterdir()}
    assert sorted(p.suffix for p in sources.iterdir()) == [".docx", ".html", ".html", ".txt"]
    for html_copy in sources.glob("*.html"):
        head, body = html_copy.read_text(encoding="utf-8").lower().split("</head>", 1)
        assert "content-security-policy" in head and "<script" not in head
        for live in ("<script", "onload", "onerror", "javascript:", "<iframe", "<img", "http-equiv",
                     "example.invalid", "<link", "style="):
            assert live not in body, (html_copy.name, live)
    assert "<script>window.__pwned=5</script>" in copies[".txt"].read_text(encoding="utf-8-sig")
    shuyang = [p for p in sources.glob("*.html") if "沭阳" in p.read_text(encoding="utf-8")]
    assert shuyang and "<table" in shuyang[0].read_text(encoding="utf-8")   # the page's tables are kept
    for copy in sources.iterdir():
        if copy.suffix in (".html", ".txt"):
            page.goto(copy.as_uri())
            page.wait_for_timeout(200)
            assert page.evaluate("typeof window.__pwned") == "undefined", copy.name
            assert page.evaluate("document.scripts.length") == 0, copy.name
    assert page.outside == []
    # each report page links its copy; a Word file is a download
    pages = "\n".join(p.read_text(encoding="utf-8") for p in (out / "data_docs" / "reports").glob("*.html"))
    assert "下载原文件（Word）" in pages and " download " in pages and "查看原网页副本（已去除脚本）" in pages


# 6: a local release is atomic as a whole ----------------------------------------------------------

def _many(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    seeds = sorted(SAMPLES.iterdir())
    for i in range(n):
        (folder / f"{i:04d}-{seeds[i % len(seeds)].name}").write_bytes(seeds[i % len(seeds)].read_bytes())
    return folder


def _assert_whole(out: Path, run_id: str, reports: set[str]) -> None:
    """OUT's dataset, run.json and site are all of one run."""
    assert json.loads((out / "run.json").read_text())["run_id"] == run_id
    assert set(_reports(out).index) == reports
    pages = list((out / "data_docs" / "reports").glob("*.html"))
    assert len(pages) == len(reports)
    index = (out / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert all(r in index for r in reports)


def test_sigkill_while_the_site_is_written_leaves_the_previous_release_whole(tmp_path):
    out = tmp_path / "out"
    first = run(str(_samples(tmp_path / "small")), out)
    many = _many(tmp_path / "many", 600)
    script = f"from giodq.pipeline import run; run({str(many)!r}, {str(out)!r})"
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:   # until its report pages are being written
            staged = list((out / "releases").glob(".tmp-*/data_docs/reports"))
            if staged and len(list(staged[0].iterdir())) >= 50:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list((out / "releases").glob(".tmp-*"))                  # it died mid-release
    _assert_whole(out, first["run_id"], {p.name for p in SAMPLES.iterdir()})
    second = run(str(many), out)                                     # the next run completes and cleans up
    _assert_whole(out, second["run_id"], {p.name for p in many.iterdir()})
    assert not list((out / "releases").glob(".tmp-*"))


def test_a_commit_that_fails_leaves_the_previous_release_and_a_damaged_record_does_not_stop_runs(
        tmp_path, monkeypatch):
    src, out = _samples(tmp_path / "src"), tmp_path / "out"
    first = run(str(src), out)
    from giodq.publish import store

    def dies(*args):
        raise OSError("disk full")

    shutil.copy(SAMPLES / SEED_004, src / "copy.txt")
    with monkeypatch.context() as m:
        m.setattr(store, "_point", dies)
        with pytest.raises(OSError, match="disk full"):
            run(str(src), out)
    _assert_whole(out, first["run_id"], {p.name for p in SAMPLES.iterdir()})
    # an older giodq wrote run.json in place: one cut short by a crash must not fail every later run
    record = (out / "run.json").resolve()
    record.write_text(record.read_text()[:40])
    third = run(str(src), out)
    _assert_whole(out, third["run_id"], {p.name for p in SAMPLES.iterdir()} | {"copy.txt"})
    releases = [p for p in (out / "releases").iterdir()]
    assert len(releases) <= 3 and not [p for p in releases if p.name.startswith(".")]


def test_an_out_of_the_old_layout_is_moved_into_a_release(tmp_path):
    src, out = _samples(tmp_path / "src"), tmp_path / "out"
    first = run(str(src), out)
    # the layout of giodq before releases: real folders and a run.json at OUT
    current = (out / "current").resolve()
    for name in ("dataset", "data_docs", "run.json"):
        (out / name).unlink()
        shutil.move(current / name, out / name)
    (out / "current").unlink()
    shutil.rmtree(out / "releases")
    (out / ".dataset-1234abcd").mkdir()                               # a staging folder an old run left
    second = run(str(src), out)
    assert second["kind"] == "unchanged" and second["dataset_run_id"] == first["run_id"]
    assert (out / "dataset").is_symlink() and not (out / ".dataset-1234abcd").exists()
    _assert_whole(out, first["run_id"], {p.name for p in SAMPLES.iterdir()})


# two runs on one OUT: the second refuses with a clear message -------------------------------------

HOLD = textwrap.dedent("""
    import sys, time
    from giodq.publish.lock import lock
    with lock(sys.argv[1], "run"):
        print("held", flush=True)
        time.sleep(120)
""")


def _holder(out: str, env=None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, out], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_on_one_out_refuses_while_the_first_holds_it(tmp_path, capsys):
    src, out = _samples(tmp_path / "src"), tmp_path / "out"
    first = run(str(src), out)
    holder = _holder(str(out))
    try:
        with pytest.raises(OutBusy, match="另一个 giodq 运行正在写入"):
            run(str(src), out)
        assert main(["run", str(src), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"进程 {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait()
    assert run(str(src), out)["dataset_run_id"] == first["run_id"]    # the kernel freed the dead holder's lock


def test_a_bucket_is_locked_by_a_conditional_write_and_a_dead_holder_is_taken_over(tmp_path):
    from s3_server import moto_server

    from giodq.s3 import s3_client

    with moto_server():
        s3 = s3_client()
        s3.create_bucket(Bucket="district")
        for p in SAMPLES.iterdir():
            s3.put_object(Bucket="district", Key=f"reports/{p.name}", Body=p.read_bytes())
        holder = _holder("s3://district/out", env=os.environ.copy())
        try:
            lock_object = json.loads(s3.get_object(Bucket="district", Key="out/.giodq.lock")["Body"].read())
            assert lock_object["pid"] == holder.pid
            with pytest.raises(OutBusy):
                run("s3://district/reports", "s3://district/out")
        finally:
            holder.kill()   # dies holding it: the lock object stays in the bucket
            holder.wait()
        record = run("s3://district/reports", "s3://district/out")    # its holder is gone: taken over
        assert record["inputs"] == 5
        assert "Contents" not in s3.list_objects_v2(Bucket="district", Prefix="out/.giodq.lock")


# 7: rerun where the district has no findings -------------------------------------------------------

def test_rerun_when_the_district_has_no_findings(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    shutil.copy(SAMPLES / "000_11add77ccab5606b.txt", src)
    assert run(str(src), out)["findings"]["total"] == 0
    record = rerun("000_11add77ccab5606b.txt", str(src), out)
    assert record["kind"] == "rerun" and record["appeared"] == [] and record["resolved"] == []


# 8, 11: the command is checked before the work ------------------------------------------------------

def test_out_inside_source_is_refused_at_the_start(tmp_path, capsys):
    src = _samples(tmp_path / "src")
    with pytest.raises(CommandError, match="SOURCE"):
        run(str(src), src / "out")
    assert main(["run", str(src), "--out", str(src / "out")]) == 2
    assert "之内" in capsys.readouterr().err
    assert not (src / "out" / "dataset").exists()
    assert main(["run", str(src), "--out", str(src)]) == 2


@pytest.mark.parametrize("argv, says", [
    (["run", "samples", "--out", "README.md"], "不是文件夹"),
    (["run", "no-such-folder", "--out", "{tmp}/out"], "SOURCE 文件夹不存在"),
    (["rerun", "no-such-report.txt", "--source", "samples", "--out", "{tmp}/out"], "没有 no-such-report.txt"),
    (["run", "samples", "--out", "/proc/giodq-out"], "无法写入"),
    (["run", "samples", "--out", "samples/out"], "在 SOURCE（samples）之内"),
])
def test_a_users_mistake_is_one_line_and_a_non_zero_exit_at_once(tmp_path, argv, says):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "giodq.cli", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    took = time.monotonic() - t0
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and says in proc.stderr and "Traceback" not in proc.stderr
    assert "prefect" not in (proc.stdout + proc.stderr).lower()           # no server was started for it
    print(f"{argv[0]} {says}: exit 2 in {took:.2f} s")


# 9: an object key ending in "/" that holds bytes --------------------------------------------------

def test_a_folder_marker_with_bytes_is_a_failed_input(tmp_path):
    from s3_server import moto_server

    from giodq.s3 import s3_client

    with moto_server():
        s3 = s3_client()
        s3.create_bucket(Bucket="district")
        s3.put_object(Bucket="district", Key=f"reports/{SEED_004}", Body=(SAMPLES / SEED_004).read_bytes())
        s3.put_object(Bucket="district", Key="reports/x/", Body=(SAMPLES / SEED_004).read_bytes())
        s3.put_object(Bucket="district", Key="reports/empty-folder/", Body=b"")   # a real folder marker
        out = tmp_path / "out"
        record = run("s3://district/reports", out)
    reports = _reports(out)
    assert sorted(reports.index) == [SEED_004, "x/"]
    assert reports.loc["x/", "status"] == "failed" and "以“/”结尾" in reports.loc["x/", "error"]
    assert record["inputs"] == 2 and [f["report"] for f in record["failed"]] == ["x/"]
