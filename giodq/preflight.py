"""The command checked before any work: a user's mistake is one line and a non-zero exit at once,
not a traceback after the whole run and its retries.

Checks only what can be known before reading the reports: SOURCE can be listed, OUT can be
written (and is not inside SOURCE, where the next run would read its own site as reports), a
rerun's key is there. Cheap enough to run again at the start of every flow run, so deployments
(which do not go through the command line) get the same checks.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from giodq.ingest import InputRefused, check_key, open_source
from giodq.publish import store
from giodq.s3 import s3_client, split_s3_uri


class CommandError(ValueError):
    """What is wrong with the command, in one line (中文 first, English after)."""


def check_run(source: str, out: str) -> None:
    """SOURCE readable, OUT writable and not inside SOURCE. Raises CommandError."""
    from giodq.settings import settings

    if settings().validate_chunk < 1:
        raise CommandError(f"GIODQ_VALIDATE_CHUNK 须至少为 1 (must be at least 1, not {settings().validate_chunk})")
    _check_source(source)
    _check_apart(source, out)
    _check_out(out)


def check_rerun(key: str, source: str, out: str) -> None:
    """As check_run, and the key is an input under SOURCE and OUT holds a district run."""
    check_run(source, out)
    try:
        check_key(key)
        open_source(source).ref(key)
    except InputRefused as e:
        raise CommandError(f"{key}：{e.reason.removeprefix('refused: ')}") from None
    except OSError as e:
        raise CommandError(f"SOURCE 中没有 {key} (no such input under {source}): {_short(e)}") from None
    if store.current(store_uri(out)) is None:
        raise CommandError(f"{out} 中还没有检查结果，请先运行 giodq run SOURCE --out OUT "
                           f"(no district run at OUT yet)")


def district_of(roster: str | None, years: str | None):
    """The District of the command's --roster and --years, or of GIODQ_ROSTER and GIODQ_YEARS."""
    from giodq.settings import settings

    s = settings()   # an empty parameter (a deployment's unset {{ $GIODQ_ROSTER }}) is no parameter
    return check_district(roster or s.roster or None, years or s.years)


def check_district(roster: str | None, years: str | None = None):
    """The District (district/scope.py) the command names: the roster read and checked (a bad one is
    a RosterError, a CommandError, before any report is read), the years parsed."""
    from giodq.district.roster import read_roster
    from giodq.district.scope import District

    return District(read_roster(roster) if roster else None, parse_years(years))


def parse_years(text: str | None) -> tuple[int, ...]:
    """'2023,2024' or '2022-2024' -> (2022, 2023, 2024); '' -> ()."""
    import re

    years: set[int] = set()
    for part in (text or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        got = re.fullmatch(r"([0-9]{4})(?:-([0-9]{4}))?", part, flags=re.ASCII)
        if not got:
            raise CommandError(f"年度应写作 2024、2023,2024 或 2022-2024 (years: {part[:20]!r})")
        a, b = int(got[1]), int(got[2] or got[1])
        if a > b:
            raise CommandError(f"年度范围应从早到晚，如 2022-2024 (years: {part})")
        if not (1990 <= a and b <= 2100) or b - a >= MAX_YEARS:
            raise CommandError(f"年度应在 1990 至 2100 之间，且不超过 {MAX_YEARS} 年 (years out of range: {part})")
        years |= set(range(a, b + 1))
    return tuple(sorted(years))


MAX_YEARS = 30


def store_uri(out: str) -> str:
    return out if store.is_s3(out) else str(Path(out).expanduser().resolve())


def _short(e: BaseException) -> str:
    return str(e).splitlines()[0][:300] if str(e) else type(e).__name__


def _check_source(source: str) -> None:
    if store.is_s3(source):
        bucket, prefix = _split(source)
        try:
            s3_client().list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        except Exception as e:   # no bucket, no access, no endpoint: botocore says which
            raise CommandError(f"无法列出 SOURCE {source} (cannot list SOURCE): {_short(e)}") from None
        return
    path = Path(source).expanduser()
    if not path.is_dir():
        raise CommandError(f"SOURCE 文件夹不存在 (source folder not found): {source}")
    try:
        next(os.scandir(path), None)
    except OSError as e:
        raise CommandError(f"无法读取 SOURCE 文件夹 (cannot read the source folder) {source}: {_short(e)}") from None


def _check_apart(source: str, out: str) -> None:
    """OUT inside SOURCE (or the same place) would make the run's own outputs inputs of the next."""
    if store.is_s3(source) != store.is_s3(out):
        return
    if store.is_s3(source):
        (sb, sp), (ob, op) = _split(source), _split(out)
        inside = sb == ob and op.startswith(sp)
    else:
        src, dst = Path(source).expanduser().resolve(), Path(out).expanduser().resolve()
        inside = dst == src or dst.is_relative_to(src)
    if inside:
        raise CommandError(f"OUT（{out}）在 SOURCE（{source}）之内：下次运行会把输出当作报告读取，"
                           f"请把 OUT 放在 SOURCE 之外 (OUT must not be inside SOURCE)")


def _check_out(out: str) -> None:
    probe = f".giodq-probe-{uuid.uuid4().hex[:8]}"
    if store.is_s3(out):
        bucket, prefix = _split(out)
        try:
            client = s3_client()
            client.put_object(Bucket=bucket, Key=prefix + probe, Body=b"")
            client.delete_object(Bucket=bucket, Key=prefix + probe)
        except Exception as e:
            raise CommandError(f"无法写入 OUT {out} (cannot write OUT): {_short(e)}") from None
        return
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise CommandError(f"OUT 已存在且不是文件夹 (OUT exists and is not a folder): {out}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / probe).write_bytes(b"")
        (path / probe).unlink()
    except OSError as e:
        raise CommandError(f"无法写入 OUT 文件夹 (cannot write OUT) {out}: {_short(e)}") from None
    try:
        store.check_local_out(path)
    except store.OutNotGiodq as e:
        raise CommandError(str(e)) from None


def _split(uri: str) -> tuple[str, str]:
    try:
        return split_s3_uri(uri)
    except ValueError as e:
        raise CommandError(f"{e} (s3://bucket/prefix)") from None
