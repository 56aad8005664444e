"""``social-care`` run as a real process, its output read line by line as it comes."""

from __future__ import annotations

import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from tests.web.support import free_port

COMMAND = shutil.which("social-care") or str(Path(sys.executable).parent / "social-care")
STARTUP_SECONDS = 20
STOP_SECONDS = 10


class Service:
    """A ``social-care run`` process, and its output read line by line as it comes."""

    def __init__(
        self, cwd: Path, *options: str, environ: Mapping[str, str] | None = None, terminal: bool = False
    ) -> None:
        """With ``terminal``, standard output is a pseudo-terminal, as when a person starts it by hand;
        otherwise a pipe, as under a service manager that keeps it in a log."""
        self.port = free_port()
        inherited = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "SOCIAL_CARE_CONFIG"}
        }
        environ = {**inherited, **(environ or {})}
        environ.update(COLUMNS="60", PYTHONUNBUFFERED="1")  # narrow: no line may be wrapped
        reading = writing = -1
        if terminal:
            environ.update(TERM="dumb")  # a terminal without colours: the output reads as plain text
            reading, writing = pty.openpty()
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [COMMAND, "run", "--port", str(self.port), *options],
            cwd=cwd,
            env=environ,
            stdout=writing if terminal else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if terminal:
            os.close(writing)
            stdout: IO[str] = open(reading, encoding="utf-8", errors="replace", newline=None)  # noqa: SIM115
        else:
            assert self.process.stdout is not None
            stdout = self.process.stdout
        assert self.process.stderr is not None
        self._streams = (stdout, self.process.stderr)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._arrived = threading.Condition()
        self._ended = 0
        self._readers = [
            threading.Thread(target=self._read, args=(stdout, self.stdout), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], into: list[str]) -> None:
        try:
            for line in stream:
                with self._arrived:
                    into.append(line)
                    self._arrived.notify_all()
        except OSError:
            pass  # a pseudo-terminal's reader is told so (EIO) once the process has closed it
        with self._arrived:
            self._ended += 1
            self._arrived.notify_all()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def wait_for(self, pattern: re.Pattern[str], seconds: float = STARTUP_SECONDS) -> re.Match[str]:
        """The first line so far, on stdout or stderr, matching ``pattern``; waits up to ``seconds``."""
        deadline = time.monotonic() + seconds
        with self._arrived:
            while not (found := pattern.search(self.output)):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._ended == len(self._readers):
                    raise AssertionError(f"never printed {pattern.pattern!r}; output:\n{self.output}")
                self._arrived.wait(remaining)
        return found

    def stop(self, signal_number: int = signal.SIGINT) -> int:
        self.process.send_signal(signal_number)
        return self.finish(STOP_SECONDS)

    def finish(self, seconds: float) -> int:
        """The exit code, once the process has ended and all its output is read."""
        try:
            code = self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {seconds} s; output:\n{self.output}") from None
        for reader in self._readers:
            reader.join(timeout=seconds)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_SECONDS)
        for stream in self._streams:
            stream.close()
