"""One run at a time on an OUT: a second run waits ``lock_wait_s`` and then refuses with a clear
message, never interleaving its release with the first one's.

- A folder: an ``flock`` on ``OUT/.giodq.lock``; the kernel releases it when a run dies, and the
  next run removes what the dead one left (store.prepare_local).
- A bucket: ``OUT/.giodq.lock`` written only if absent (a conditional PUT, ``If-None-Match: *``),
  renewed while the run works (a lease) and removed at the end; a dead run's is taken over.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from giodq.publish.store import get_json, is_s3, local_out, prepare_local
from giodq.s3 import s3_client, split_s3_uri
from giodq.settings import settings

log = logging.getLogger(__name__)
LOCK = ".giodq.lock"


class OutBusy(RuntimeError):
    """Another run is writing OUT."""


def _holder(kind: str) -> dict:
    return {"token": uuid.uuid4().hex, "pid": os.getpid(), "host": socket.gethostname(), "kind": kind,
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"), "at": time.time()}


def _busy(out: str, holder: dict | None) -> OutBusy:
    who = (f"{holder.get('kind')}，进程 {holder.get('pid')}@{holder.get('host')}，始于 {holder.get('since')}"
           if holder else "另一个进程")
    return OutBusy(f"另一个 giodq 运行正在写入 {out}（{who}），请等它结束后再运行 "
                   f"(another giodq run is writing OUT; GIODQ_LOCK_WAIT_S sets how long to wait)")


_HELD: dict[str, int] = {}   # OUT -> depth: the command line takes the lock, the flow it runs takes it again
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def lock(out: str | Path, kind: str = "run", wait_s: float | None = None):
    """Hold OUT for one run: a second run on the same OUT waits ``lock_wait_s`` and then raises
    OutBusy, never interleaves. A folder: an flock (released by the kernel when a run dies), then
    what a dead run left is removed (prepare_local). A bucket: an object written only if absent (a
    conditional PUT), renewed while the run works and removed at the end; a dead run's (see _dead)
    is taken over. Re-entrant within one process."""
    name = str(out)
    with _HELD_GUARD:
        again = _HELD.get(name, 0) > 0
        if again:
            _HELD[name] += 1
    if again:
        try:
            yield
        finally:
            with _HELD_GUARD:
                _HELD[name] -= 1
        return
    with _lock(out, kind, settings().lock_wait_s if wait_s is None else wait_s):
        with _HELD_GUARD:
            _HELD[name] = 1
        try:
            if not is_s3(out):
                prepare_local(out)
            yield
        finally:
            with _HELD_GUARD:
                _HELD.pop(name, None)


@contextlib.contextmanager
def _lock(out: str | Path, kind: str, wait_s: float):
    holder, deadline = _holder(kind), time.monotonic() + wait_s
    if not is_s3(out):
        root = local_out(out)
        with open(root / LOCK, "a+", encoding="utf-8") as f:
            while True:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        f.seek(0)
                        try:
                            raise _busy(str(out), json.loads(f.read() or "null")) from None
                        except ValueError:
                            raise _busy(str(out), None) from None
                    time.sleep(0.5)
            f.seek(0)
            f.truncate()
            f.write(json.dumps(holder, ensure_ascii=False))
            f.flush()
            try:
                yield
            finally:
                f.seek(0)
                f.truncate()
        return
    bucket, prefix = split_s3_uri(str(out))
    key, client = prefix + LOCK, s3_client()
    while not _take_s3_lock(client, bucket, key, holder):
        other = get_json(bucket, key)
        if other is None:
            continue   # released meanwhile
        if _dead(other):
            log.warning("taking over the lock of a run that is gone: %s", other)
            client.delete_object(Bucket=bucket, Key=key)
            continue
        if time.monotonic() >= deadline:
            raise _busy(str(out), other)
        time.sleep(1)
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(client, bucket, key, holder, stop), daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        mine = get_json(bucket, key)
        if mine and mine.get("token") == holder["token"]:
            client.delete_object(Bucket=bucket, Key=key)


def _renew(client, bucket: str, key: str, holder: dict, stop: threading.Event) -> None:
    """Renew the lease while the run works (a third of the lease at a time)."""
    lease = settings().lock_lease_s
    while not stop.wait(lease / 3):
        try:
            client.put_object(Bucket=bucket, Key=key, Body=json.dumps(holder | {"renewed": time.time()}).encode(),
                              ContentType="application/json")
        except Exception:   # the endpoint may be back for the next renewal
            log.warning("could not renew the lock at s3://%s/%s", bucket, key, exc_info=True)


def _dead(holder: dict) -> bool:
    """A lock whose run is gone: not renewed within the lease, or held by a process of this machine
    that no longer runs (or by this process, which does not hold it: a run that failed before it
    could remove its lock)."""
    renewed = holder.get("renewed") or holder.get("at", 0)
    if time.time() - float(renewed) > settings().lock_lease_s:
        return True
    if holder.get("host") != socket.gethostname():
        return False
    pid = holder.get("pid")
    if pid == os.getpid():
        return True   # lock() is re-entrant: this process holding it for real never gets here
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, TypeError, ValueError):
        return True
    except PermissionError:
        return False
    return False


def _take_s3_lock(client, bucket: str, key: str, holder: dict) -> bool:
    from botocore.exceptions import ClientError

    try:
        client.put_object(Bucket=bucket, Key=key, Body=json.dumps(holder).encode(), IfNoneMatch="*",
                          ContentType="application/json")
        return True
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("PreconditionFailed", "ConditionalRequestConflict") or \
                e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (409, 412):
            return False
        if code in ("NotImplemented", "InvalidArgument"):
            log.warning("the endpoint has no conditional writes: two runs on %s at once are not prevented", bucket)
            return True
        raise
