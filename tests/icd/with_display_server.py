#!/usr/bin/env python3
"""Runs a test program against a display server of its own: Xvfb (on a free
display number it picks itself with -displayfd) or a headless weston (on a
unique socket in a private XDG_RUNTIME_DIR). The server is ended afterwards.
Exit code: the program's; 77 (CTest SKIP_RETURN_CODE) only when the server's
binary is not installed; 1 when the server does not come up."""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
START_TIMEOUT_S = 15


def start_xvfb(args, env):
    """Xvfb writes the display number it chose to the pipe once it accepts clients."""
    if not shutil.which("Xvfb"):
        print("Xvfb is not installed", file=sys.stderr)
        sys.exit(SKIP)
    rfd, wfd = os.pipe()
    cmd = ["Xvfb", "-displayfd", str(wfd), "-screen", "0", args.screen, "-nolisten", "tcp",
           "-noreset"]  # no server reset (refused connections) when a test disconnects
    for ext in args.disable_extension:
        cmd += ["-extension", ext]
    server = subprocess.Popen(cmd, pass_fds=(wfd,), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    os.close(wfd)
    number = b""
    deadline = time.monotonic() + START_TIMEOUT_S
    os.set_blocking(rfd, False)
    while not number.endswith(b"\n") and time.monotonic() < deadline and server.poll() is None:
        try:
            chunk = os.read(rfd, 16)
            if not chunk:
                break
            number += chunk
        except BlockingIOError:
            time.sleep(0.02)
    os.close(rfd)
    if not number.endswith(b"\n"):
        stop(server)
        err = server.stderr.read().decode(errors="replace") if server.stderr else ""
        print("Xvfb did not start:\n" + err, file=sys.stderr)
        sys.exit(1)
    env["DISPLAY"] = ":" + number.decode().strip()
    env.pop("WAYLAND_DISPLAY", None)
    return server, None


def start_weston(args, env):
    """weston's headless backend with the pixman renderer and the desktop
    shell (weston 10's kiosk shell sends no frame callbacks there), never idle."""
    if not shutil.which("weston"):
        print("weston is not installed", file=sys.stderr)
        sys.exit(SKIP)
    runtime = tempfile.mkdtemp(prefix="tether-weston-")  # mode 0700
    os.chmod(runtime, 0o700)
    socket = "tether-test-%d" % os.getpid()
    env["XDG_RUNTIME_DIR"] = runtime
    env["WAYLAND_DISPLAY"] = socket
    env.pop("DISPLAY", None)
    log = open(os.path.join(runtime, "weston.log"), "w+")
    server = subprocess.Popen(["weston", "--backend=headless-backend.so", "--socket=" + socket,
                               "--idle-time=0", "--use-pixman",
                               "--width=%d" % args.width, "--height=%d" % args.height],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    path = os.path.join(runtime, socket)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not os.path.exists(path) and time.monotonic() < deadline and server.poll() is None:
        time.sleep(0.02)
    # The socket appears before the shell is loaded; its lock file is made
    # with it. Give the compositor a moment to finish starting.
    time.sleep(0.2)
    if not os.path.exists(path) or server.poll() is not None:
        stop(server)
        log.seek(0)
        print("weston did not start:\n" + log.read(), file=sys.stderr)
        shutil.rmtree(runtime, ignore_errors=True)
        sys.exit(1)
    return server, runtime


def stop(server):
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--server", choices=("xvfb", "weston"), required=True)
    p.add_argument("--screen", default="1280x1024x24", help="Xvfb screen WxHxDEPTH")
    p.add_argument("--disable-extension", action="append", default=[], help="Xvfb extension to turn off")
    p.add_argument("--width", type=int, default=640, help="weston output width")
    p.add_argument("--height", type=int, default=480, help="weston output height")
    p.add_argument("program", nargs=argparse.REMAINDER)
    args = p.parse_args()
    env = dict(os.environ)
    if args.server == "xvfb":
        server, runtime = start_xvfb(args, env)
    else:
        server, runtime = start_weston(args, env)
    # Tests that take the server away (compositor gone) need its pid.
    env["TETHER_TEST_SERVER_PID"] = str(server.pid)
    try:
        rc = subprocess.call(args.program, env=env)
    finally:
        stop(server)
        if runtime:
            shutil.rmtree(runtime, ignore_errors=True)
    sys.exit(rc)


if __name__ == "__main__":
    main()
