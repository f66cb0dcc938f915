"""Progress of long work on one updating line: through tqdm when it is installed,
a plain line rewritten in place otherwise.

    with Progress(total=len(loader) * epochs, desc="train") as bar:
        for epoch in range(epochs):
            for xb, yb in loader:
                ...
                bar.update(epoch=epoch + 1, loss=f"{loss.item():.4f}")
            bar.write(f"epoch {epoch + 1}: test accuracy {acc:.2%}")   # a line that stays

Where the output is not a terminal (a log file, a test), nothing is rewritten:
only what ``write`` prints, and a last line on ``close``, so logs stay readable.
"""

import sys
import time

__all__ = ["Progress"]


class Progress:
    """A progress line: ``update(n=1, **stats)`` advances it and shows ``stats`` as
    ``key value``; ``write(text)`` prints a line above it that stays; ``close()``
    (or leaving the ``with`` block) ends it. ``use_tqdm``: None (when installed),
    True or False."""

    def __init__(self, total=None, desc="", file=None, use_tqdm=None):
        self.total, self.desc = total, desc
        self.file = file if file is not None else sys.stdout
        self.count, self.stats = 0, {}
        self.start = time.perf_counter()
        self._tqdm = None
        if use_tqdm is not False:
            try:
                from tqdm import tqdm
            except ImportError:
                if use_tqdm:
                    raise ImportError("Progress(use_tqdm=True): tqdm is not installed "
                                      "(pip install tqdm)") from None
            else:
                self._tqdm = tqdm(total=total, desc=desc, file=self.file, leave=True,
                                  dynamic_ncols=True)
        self._live = self._tqdm is None and _is_terminal(self.file)
        self._width = 0

    def update(self, n=1, **stats):
        self.count += n
        self.stats.update(stats)
        if self._tqdm is not None:
            self._tqdm.set_postfix(self.stats, refresh=False)
            self._tqdm.update(n)
        elif self._live:
            self._draw()

    def write(self, text):
        """Print ``text`` on a line of its own, above the progress line."""
        if self._tqdm is not None:
            self._tqdm.write(text, file=self.file)
            return
        if self._live:
            self.file.write("\r" + " " * self._width + "\r")
        print(text, file=self.file)
        if self._live:
            self._draw()

    def line(self):
        """The progress line as text: description, count, stats, elapsed time."""
        parts = [self.desc] if self.desc else []
        parts.append(f"{self.count}/{self.total}" if self.total else str(self.count))
        parts += [f"{k} {v}" for k, v in self.stats.items()]
        parts.append(f"{time.perf_counter() - self.start:.1f} s")
        return "  ".join(parts)

    def _draw(self):
        text = self.line()
        self.file.write("\r" + text + " " * max(0, self._width - len(text)))
        self.file.flush()
        self._width = len(text)

    def close(self):
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        elif self._live:
            self._draw()
            self.file.write("\n")
            self._live = False
        elif self.count:
            print(self.line(), file=self.file)
            self.count = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _is_terminal(file):
    try:
        return file.isatty()
    except (AttributeError, ValueError):
        return False
