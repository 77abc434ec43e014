"""The benchmarks' input: the five seeds in samples/reports/ repeated to N report files.

``seed_folder``: exact copies (all duplicates of five reports). ``distinct_folder``: the same cycle,
but every copy is a unit of its own (its body renamed with a code made from its index, a line
naming the copy appended), so that no two files are duplicates of each other.
"""
import shutil
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "reports"
# base-32 digits for the units' codes: 甲甲甲甲 for 0, 甲甲甲辛 for 7 ... (32**4 codes)
DIGITS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥金木水火土石竹林松柏"
GOVERNMENT = "人民政府"


def seed_folder(folder: Path, n: int) -> Path:
    """Write n report files into folder (created), cycling through the seeds; returns folder."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = sorted(SAMPLES.iterdir())
    for i in range(n):
        src = seeds[i % len(seeds)]
        shutil.copy(src, folder / f"{i:05d}_{src.name}")
    return folder


def code(i: int) -> str:
    """i as 4 base-32 digits over DIGITS, leading digits included."""
    assert 0 <= i < len(DIGITS) ** 4, i
    return "".join(DIGITS[i // len(DIGITS) ** k % len(DIGITS)] for k in (3, 2, 1, 0))


def _written_body(text: str, body: str | None) -> str | None:
    """What to rename in the seed's text: its body, or the body without 人民政府 when the text
    writes it short (铁厂镇 for 铁厂镇人民政府: the extractor takes 铁厂镇 from the first paragraph
    and adds 人民政府 only because the long form occurs too, so both forms must be renamed, and
    renaming the short form renames both)."""
    if body and body.endswith(GOVERNMENT) and body[:-len(GOVERNMENT)] and body[:-len(GOVERNMENT)] in text:
        return body[:-len(GOVERNMENT)]
    return body if body and body in text else None


def _seed_texts() -> list[tuple[str, str, str | None]]:
    """(file name, text, the body as written or None) for each seed."""
    from giodq.extract import extract_report
    seeds = []
    for path in sorted(SAMPLES.iterdir()):
        data = path.read_bytes()
        text = data.decode("utf-8")
        seeds.append((path.name, text, _written_body(text, extract_report(path.name, data).body)))
    return seeds


def distinct_copy(text: str, written: str | None, i: int) -> str:
    """Copy i of a seed: its body prefixed with code(i), a last line naming the copy."""
    if written:
        text = text.replace(written, code(i) + written)
    return text + f"\n（第 {i} 份）\n"


def distinct_folder(folder: Path, n: int) -> Path:
    """Write n report files into folder (created), cycling through the seeds as seed_folder does,
    each copy a unit of its own (see distinct_copy); returns folder."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = _seed_texts()
    for i in range(n):
        name, text, written = seeds[i % len(seeds)]
        (folder / f"{i:05d}_{name}").write_text(distinct_copy(text, written, i), encoding="utf-8")
    return folder
