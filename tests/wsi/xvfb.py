"""A private Xvfb for one presentation test (python3 stdlib only).

Xvfb picks the display number itself (-displayfd), so tests running in
parallel never collide on a display and no lock is needed.
"""
import os
import select
import shutil
import signal
import subprocess
import time

START_TIMEOUT_S = 15.0


class Xvfb:
    """Xvfb with one screen of WxHx24 (32 bits per pixel, TrueColor)."""

    def __init__(self, log_path, width=1024, height=768, xvfb=None):
        self.xvfb = xvfb or shutil.which("Xvfb") or "Xvfb"
        self.log_path = log_path
        self.size = "%dx%dx24" % (width, height)
        self.proc = None
        self.display = None
        self._log = None

    def start(self):
        """Start the server and return its DISPLAY string (":N")."""
        rfd, wfd = os.pipe()
        cmd = [self.xvfb, "-displayfd", str(wfd), "-screen", "0", self.size,
               "-nolisten", "tcp", "-noreset"]
        self._log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT, pass_fds=(wfd,))
        finally:
            os.close(wfd)
        text = b""
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            # Xvfb writes "N\n" once it accepts connections on display N.
            while not text.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    break
                ready, _, _ = select.select([rfd], [], [], min(left, 0.2))
                if ready:
                    chunk = os.read(rfd, 64)
                    if not chunk:
                        break
                    text += chunk
        finally:
            os.close(rfd)
        if not text.strip().isdigit():
            self.stop()
            raise RuntimeError("Xvfb did not start (%s); log:\n%s" % (" ".join(cmd),
                                                                     self.log_text()))
        self.display = ":" + text.strip().decode()
        return self.display

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def env(self, base):
        """@base with DISPLAY set to this server (and no Wayland display)."""
        env = dict(base)
        env["DISPLAY"] = self.display
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
