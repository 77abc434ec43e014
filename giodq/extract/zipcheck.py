"""An Office file (a zip: DOCX, XLSX) -> why it must not be opened, read from its central directory before
python-docx inflates anything.

python-docx reads each part whole (``ZipFile.read``). ZipExtFile stops returning bytes at the
``file_size`` of the central directory, so the declared sizes bound what python-docx is given;
they do not bound the work of getting it: one ``read()`` inflates up to ``ZipExtFile.MAX_N``
(1 GiB) before cutting the result to ``file_size``, and bzip2 or LZMA members are inflated with
no bound at all. So the sizes are checked first, then only stored and deflated members are
allowed (the only methods OOXML uses), and each deflate stream is inflated here in bounded
steps to make sure it ends where its header says.
"""
from __future__ import annotations

import io
import struct
from dataclasses import replace
import zipfile
import zlib

from giodq.extract.limits import Limits, size_text, sizes

# A Word document has tens of parts. Listing the directory costs zipfile about 0.5 kB and 8 µs
# per entry, so a directory of millions of empty entries is refused before zipfile lists it.
MAX_MEMBERS = 10_000
_CENTRAL_ENTRY = b"PK\x01\x02"
_LOCAL_HEADER = struct.Struct("<4s22xHH")   # signature, …, file name length, extra field length
_STEP = 1 << 20                             # bytes inflated at a time when checking a stream


def docx_reason(data: bytes, limits: Limits) -> str | None:
    """Why the DOCX in ``data`` is not opened (a failed input's reason), or None when it may be."""
    return zip_reason(data, limits, "DOCX")


def zip_reason(data: bytes, limits: Limits, kind: str) -> str | None:
    """Why the Office file (a zip: DOCX, XLSX) in ``data`` is not opened, or None when it may be;
    ``kind`` names it in the reason."""
    entries = data.count(_CENTRAL_ENTRY)  # at least the directory's entries, counted without parsing
    if entries > MAX_MEMBERS:
        return f"too_large: {kind} 内有 {entries} 个文件，超过上限 {MAX_MEMBERS} 个"
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, struct.error) as e:  # a damaged directory
        return f"unreadable: {kind} 文件已损坏或不完整，无法作为 ZIP 压缩包打开（{type(e).__name__}: {e}）"
    return members_reason(infos, limits, kind) or streams_reason(data, infos, kind)


def members_reason(infos: list[zipfile.ZipInfo], limits: Limits, kind: str = "DOCX") -> str | None:
    """Why the members, as the directory declares them, are not read: too large, encrypted, or
    compressed by a method whose inflation zipfile does not bound."""
    for info in infos:
        if info.file_size > limits.member_bytes:
            got, limit = sizes(info.file_size, limits.member_bytes)
            return f"too_large: {kind} 内的 {_name(info)} 解压后 {got}，超过上限 {limit}（GIODQ_MAX_MEMBER_MB）"
    total = sum(info.file_size for info in infos)
    if total > limits.members_bytes:
        largest = max(infos, key=lambda info: info.file_size)
        got, limit = sizes(total, limits.members_bytes)
        return (f"too_large: {kind} 内 {len(infos)} 个文件解压后共 {got}，超过上限 {limit}（GIODQ_MAX_MEMBERS_MB），"
                f"其中最大的是 {_name(largest)}（{size_text(largest.file_size)}）")
    for info in infos:
        if info.flag_bits & 0x1:
            return f"encrypted: {kind} 内的 {_name(info)} 已加密（需要密码），无法读取"
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return (f"unreadable: {kind} 内的 {_name(info)} 使用了 {kind} 不用的压缩方式"
                    f"（编号 {info.compress_type}），未读取")
    return None


def streams_reason(data: bytes, infos: list[zipfile.ZipInfo], kind: str = "DOCX") -> str | None:
    """Why a deflated member is not read: its stream is damaged, or inflates past its declared size."""
    for info in infos:
        if info.compress_type != zipfile.ZIP_DEFLATED:
            continue  # a stored member is read as is: its work is bounded by the file's own bytes
        try:
            inflated = inflated_size(data, info, cap=info.file_size)
        except (zlib.error, ValueError, struct.error) as e:
            return f"unreadable: {kind} 内的 {_name(info)} 数据已损坏，无法解压（{type(e).__name__}: {e}）"
        if inflated > info.file_size:
            return (f"unreadable: {kind} 内的 {_name(info)} 解压后大于文件目录所写的 {info.file_size} 字节"
                    f"（文件已损坏或被改动），未读取")
    return None


def inflated_size(data: bytes, info: zipfile.ZipInfo, cap: int) -> int:
    """Bytes a deflated member's stream inflates to, in steps of at most 1 MB, stopping once past ``cap``."""
    stream = memoryview(data)[_data_start(data, info):][: info.compress_size]
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    total, pos, pending = 0, 0, b""
    while total <= cap and not inflate.eof:
        if not pending:
            if pos >= len(stream):
                break
            pending = stream[pos: pos + _STEP]
            pos += _STEP
        total += len(inflate.decompress(pending, _STEP))
        pending = inflate.unconsumed_tail
    return total


def _data_start(data: bytes, info: zipfile.ZipInfo) -> int:
    """Offset of a member's compressed bytes: after its local header, name and extra field."""
    signature, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, info.header_offset)
    if signature != b"PK\x03\x04":
        raise ValueError(f"第 {info.header_offset} 字节处没有文件头")
    return info.header_offset + _LOCAL_HEADER.size + name_len + extra_len


def _name(info: zipfile.ZipInfo) -> str:
    """A member's name as shown to a reviewer: printable, and short (names are untrusted too)."""
    name = "".join(ch if ch.isprintable() else "?" for ch in info.filename[:120])
    return name + ("…" if len(info.filename) > 120 else "")


def office_zip_reason(data: bytes, limits: Limits, kind: str, setting: str = "") -> str | None:
    """zip_reason for a file whose members are all read together (a workbook: XLSX): its members'
    total inflated size is bounded by ``limits.members_bytes`` (``setting``: the setting that sets
    it, named in the reason), and so each member's."""
    if data.count(_CENTRAL_ENTRY) <= MAX_MEMBERS:   # else zip_reason says so without listing
        try:
            infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
        except Exception:   # zip_reason says what is wrong with it
            infos = []
        total = sum(info.file_size for info in infos)
        if total > limits.members_bytes:
            got, limit = sizes(total, limits.members_bytes)
            return f"too_large: {kind} 内 {len(infos)} 个文件解压后共 {got}，超过上限 {limit}" + (
                f"（{setting}）" if setting else "")
    return zip_reason(data, replace(limits, member_bytes=limits.members_bytes), kind=kind)
