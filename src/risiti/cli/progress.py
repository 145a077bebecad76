"""Progress of a long command (replay, verify, export) on standard error."""

from __future__ import annotations

import sys
import time


class ProgressLine:
    """Progress on stderr. On a terminal, a one-line bar redrawn in place at most five times a
    second; anywhere else (a log file, a pipe, CI) a plain line at 0 %, every 10 % and at the
    end, so that a log holds no carriage returns and no thousand frames."""

    def __init__(self, label: str, *, unit: str = "events", rate: bool = True) -> None:
        self._label = label
        self._unit = unit
        self._rate = rate
        self._terminal = sys.stderr.isatty()
        self._started = time.monotonic()
        self._drawn = 0.0
        self._tenths_told = -1

    def __call__(self, done: int, total: int) -> None:
        if self._terminal:
            self._redraw(done, total)
        else:
            self._tell(done, total)

    def end(self) -> None:
        """End the redrawn line, so that what follows starts a line of its own."""
        if self._terminal and self._drawn:
            print(file=sys.stderr, flush=True)

    def _redraw(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._drawn < 0.2 and done < total:
            return
        self._drawn = now
        share = done / total if total else 1.0
        bar = "#" * int(share * 30)
        rate = f" {done / max(now - self._started, 1e-9):,.0f}/s" if self._rate else ""
        print(
            f"\r{self._label} [{bar:<30}] {done:,}/{total:,} {self._unit}{rate}",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def _tell(self, done: int, total: int) -> None:
        tenths = min(done * 10 // total, 10) if total else 10
        if tenths <= self._tenths_told:
            return
        self._tenths_told = tenths
        print(f"{self._label}: {done:,}/{total:,} {self._unit} ({tenths * 10} %)", file=sys.stderr)
