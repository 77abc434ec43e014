"""The Prefect server a giodq command starts is kept for the next command, which then starts ~3 s
sooner, and stops once no command has used it for GIODQ_SERVER_KEEP_S (giodq/prefect_server.py).
The other tests set GIODQ_SERVER_KEEP_S=0 (conftest.py): their commands leave no process behind."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT, SAMPLES
from giodq.prefect_server import LEASE, RECORD, _answers, _installation, _is_keeper, _read_record, _url


def _giodq(*args, home, keep_s, cwd=ROOT):
    env = os.environ | {"PREFECT_HOME": str(home), "GIODQ_SERVER_KEEP_S": str(keep_s), "PYTHONPATH": str(ROOT)}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, "-m", "giodq.cli", *args, "--quiet"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=400)


def _kill(record: dict, home) -> None:
    if record and _is_keeper(record["pid"], home):
        os.killpg(record["pid"], signal.SIGKILL)


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


def test_the_next_command_uses_the_kept_server_which_stops_once_idle(tmp_path):
    # a Prefect home given relative to the command's folder, as a user may
    home, out = tmp_path / "prefect", tmp_path / "out"
    first = _giodq("run", str(SAMPLES), "--out", str(out), home="prefect", keep_s=10, cwd=tmp_path)
    record = json.loads((home / RECORD).read_text()) if (home / RECORD).exists() else {}
    try:
        assert first.returncode == 0, first.stderr
        url = _url(record["port"])
        assert _is_keeper(record["pid"], home) and _answers(url)   # up after the command ended
        again = _giodq("rerun", "004_47717d3cd7e0ea5b.txt", "--source", str(SAMPLES), "--out", str(out),
                       home=home, keep_s=10)
        assert again.returncode == 0, again.stderr
        assert json.loads((home / RECORD).read_text()) == record        # the same server, not another
        # no command for 10 s: the keeper stops the server and forgets it
        assert _until(lambda: not _is_keeper(record["pid"], home), 90), "the kept server did not stop"
        assert not (home / RECORD).exists() and not _answers(url)
    finally:
        _kill(record, home)


def test_a_refused_command_keeps_no_server(tmp_path):
    home = tmp_path / "prefect"
    refused = _giodq("run", str(tmp_path / "no-such-folder"), "--out", str(tmp_path / "out"), home=home, keep_s=600)
    record = json.loads((home / RECORD).read_text()) if (home / RECORD).exists() else {}
    try:
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert (home / LEASE).stat().st_mtime < 1   # marked idle since long ago
        assert not record or _until(lambda: not _is_keeper(record["pid"], home), 30), "a server was kept"
    finally:
        _kill(record, home)


def test_a_keeper_killed_takes_its_server_with_it(tmp_path):
    home = tmp_path / "prefect"
    home.mkdir()
    keeper = subprocess.Popen([sys.executable, "-m", "giodq.prefect_server", "--home", str(home), "--port", "0",
                               "--keep", "600"], env=os.environ | {"PYTHONPATH": str(ROOT)}, start_new_session=True)
    try:
        assert _until(lambda: _children(keeper.pid), 30)
        [server] = _children(keeper.pid)
        keeper.kill()
        keeper.wait()
        assert _until(lambda: not os.path.exists(f"/proc/{server}") or _zombie(server), 30), "the server outlived its keeper"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(keeper.pid, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def _zombie(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_record_naming_another_process_is_not_a_kept_server(tmp_path):
    # a machine that went down leaves a record naming a process that is gone, or its number reused
    for pid in (os.getpid(), 2 ** 22 + 1):
        (tmp_path / RECORD).write_text(json.dumps({"port": 9, "pid": pid, **_installation()}))
        assert _read_record(tmp_path) is None
    for text in ("{not json", json.dumps({"url": "http://203.0.113.9/api", "pid": os.getpid()}), "[]"):
        (tmp_path / RECORD).write_text(text)
        assert _read_record(tmp_path) is None
