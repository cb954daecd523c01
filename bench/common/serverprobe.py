"""What the benches need to know about a server they started: is it up, how much memory does
it hold, and is what came back the same bytes. Standard library only, so every bench venv
(Cairn's, MLflow's, DVC's, Evidently's) can import it:

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "common"))
    from serverprobe import wait_healthy, tree_rss_kib, PeakRSS, sha256_file
"""
import hashlib
import threading
import time
import urllib.error
import urllib.request


def wait_healthy(url: str, seconds: float = 120) -> None:
    """Poll `url` + /health until it answers 200; SystemExit when it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer /health within {seconds:.0f} s")


def tree_rss_kib(root: int) -> int:
    """Resident memory of a process and all its descendants (MLflow's workers count too), KiB."""
    total, pids = 0, [root]
    while pids:
        pid = pids.pop()
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                pids += [int(x) for x in f.read().split()]
        except (OSError, StopIteration):
            pass  # the process ended between listing and reading: it holds nothing now
    return total


class PeakRSS:
    """Samples a process tree's resident memory every 50 ms while the block runs.

    with PeakRSS(pid) as peak: ...; peak.mib
    """

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self._running = False

    def __enter__(self):
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.pid))
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()
        # One last sample so a block shorter than the interval is still measured.
        self.peak_kib = max(self.peak_kib, tree_rss_kib(self.pid))

    @property
    def mib(self) -> float:
        return self.peak_kib / 1024


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
