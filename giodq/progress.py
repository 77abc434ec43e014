"""Progress of a long run, for the command line: stages with counts (读取与提取 10,000 份...).

The pipeline reports to whatever sink the caller installed (the CLI installs a rich progress bar
on a terminal); with none installed, as in tests, deployments and Dask workers, reporting costs
nothing.
"""
from __future__ import annotations

from typing import Protocol


class Sink(Protocol):
    def stage(self, name: str, total: int | None) -> None: ...
    def advance(self, n: int) -> None: ...


_sink: Sink | None = None


def use(sink: Sink | None) -> None:
    global _sink
    _sink = sink


def stage(name: str, total: int | None = None) -> None:
    """A new stage: ``total`` items to go (None: not counted)."""
    if _sink is not None:
        _sink.stage(name, total)


def advance(n: int = 1) -> None:
    if _sink is not None:
        _sink.advance(n)


class RichSink:
    """A rich progress bar: the stage, a bar, done/total, time left."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("剩余"), TimeRemainingColumn(), transient=False)
        self.task = None

    def __enter__(self):
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def stage(self, name: str, total: int | None) -> None:
        if self.task is not None:
            done = self.bar.tasks[-1]
            self.bar.update(self.task, completed=done.total or done.completed)
        self.task = self.bar.add_task(name, total=total)

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.bar.advance(self.task, n)
