"""A progress bar for long CLI work (a 100k-pipe network import), drawn on stderr.

stdout stays the answer (the report, or JSON with ``--json``). The bar is drawn only on a
terminal and never with ``--json`` or ``--quiet``: piped into a log or another program,
the command prints nothing but its answer. The import reports its stages through the
plain ``Callable[[str], None]`` the geo service takes; each stage moves the bar one step
and becomes its label, with the elapsed time beside it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

#: the stages a network import announces (reading, importing, positions, placing,
#: validating, segments, writing, done); a shorter import simply jumps to the end
IMPORT_STAGES: Final = 8


class StageBar:
    """A bar over ``total`` stages on ``console``, or nothing when ``console`` is None."""

    def __init__(self, console: Console | None, total: int = IMPORT_STAGES) -> None:
        self.console = console
        self.total = total
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        #: the stages seen, in order (what the bar showed)
        self.stages: list[str] = []

    @classmethod
    def on_stderr(cls, off: bool, total: int = IMPORT_STAGES) -> StageBar:
        """The CLI's bar: on stderr if it is a terminal and ``off`` is false."""
        console = Console(stderr=True)
        return cls(None if off or not console.is_terminal else console, total)

    def __enter__(self) -> StageBar:
        if self.console is not None:
            self._bar = Progress(TextColumn("{task.description:<48}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=self.console)
            self._bar.start()
            self._task = self._bar.add_task("starting", total=self.total)
        return self

    def __call__(self, stage: str) -> None:
        self.stages.append(stage)
        if self._bar is not None and self._task is not None:
            done = self.total if stage == "done" else min(len(self.stages), self.total - 1)
            self._bar.update(self._task, description=stage, completed=done)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
