"""The benchmarks' input: the five seeds in samples/reports/ repeated to N report files."""
import shutil
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "reports"


def seed_folder(folder: Path, n: int) -> Path:
    """Write n report files into folder (created), cycling through the seeds; returns folder."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = sorted(SAMPLES.iterdir())
    for i in range(n):
        src = seeds[i % len(seeds)]
        shutil.copy(src, folder / f"{i:05d}_{src.name}")
    return folder
