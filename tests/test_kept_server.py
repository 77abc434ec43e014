"""The Prefect server a giodq command starts is kept for the next command, which then starts ~3 s
sooner, and stops once no command has used it for GIODQ_SERVER_KEEP_S (giodq/prefect_server.py).
The other tests set GIODQ_SERVER_KEEP_S=0 (conftest.py): their commands leave no process behind."""
import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT, SAMPLES
from giodq.prefect_server import RECORD, _answers, _installation, _is_keeper, _read_record


def _giodq(*args, home, keep_s):
    env = os.environ | {"PREFECT_HOME": str(home), "GIODQ_SERVER_KEEP_S": str(keep_s), "PYTHONPATH": str(ROOT)}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, "-m", "giodq.cli", *args, "--quiet"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=400)


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


def test_the_next_command_uses_the_kept_server_which_stops_once_idle(tmp_path):
    home, out = tmp_path / "prefect", tmp_path / "out"
    first = _giodq("run", str(SAMPLES), "--out", str(out), home=home, keep_s=10)
    record = json.loads((home / RECORD).read_text()) if (home / RECORD).exists() else {}
    try:
        assert first.returncode == 0, first.stderr
        assert _is_keeper(record["pid"]) and _answers(record["url"])   # up after the command ended
        again = _giodq("rerun", "004_47717d3cd7e0ea5b.txt", "--source", str(SAMPLES), "--out", str(out),
                       home=home, keep_s=10)
        assert again.returncode == 0, again.stderr
        assert json.loads((home / RECORD).read_text()) == record        # the same server, not another
        # no command for 10 s: the keeper stops the server and forgets it
        assert _until(lambda: not _is_keeper(record["pid"]), 90), "the kept server did not stop"
        assert not (home / RECORD).exists() and not _answers(record["url"])
    finally:
        if record and _is_keeper(record["pid"]):
            os.killpg(record["pid"], signal.SIGKILL)


def test_a_record_naming_another_process_is_not_a_kept_server(tmp_path):
    # a machine that went down leaves a record naming a process that is gone, or its number reused
    for pid in (os.getpid(), 2 ** 22 + 1):
        (tmp_path / RECORD).write_text(json.dumps({"url": "http://127.0.0.1:9/api", "pid": pid, **_installation()}))
        assert _read_record(tmp_path) is None
    (tmp_path / RECORD).write_text("{not json")
    assert _read_record(tmp_path) is None
