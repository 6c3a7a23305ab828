#!/usr/bin/env python3
"""guardsync AWS emulator: moto's server app (moto 5.2.5) wrapped by gsemu's middleware.

    python tests/emulator/server.py --port 0 [--host 127.0.0.1] [--default-account 111111111111]

Binds (port 0 = a free port), prints exactly one line
`guardsync-emulator listening on http://HOST:PORT` on stdout once it accepts
connections, and serves until SIGTERM/SIGINT. See README.md.
"""

import argparse
import io
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def install_extensions(default_account: str) -> None:
    """Patch moto. Must run before the app serves its first request."""
    # Base (non-STS) credentials map to this account. moto reads MOTO_ACCOUNT_ID
    # on *every* request and lets it override even STS-issued credentials, so
    # instead of that variable we replace the fallback moto uses for unknown keys.
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    import moto.core.models as core_models
    import moto.iam.models as iam_models

    iam_models.DEFAULT_ACCOUNT_ID = default_account
    core_models.DEFAULT_ACCOUNT_ID = default_account

    from gsemu import account_ext, fastpath, guardduty_ext, organizations_ext, s3_policy

    fastpath.install()
    guardduty_ext.install()
    organizations_ext.install()
    account_ext.install()
    s3_policy.install()
    __import__("gsemu.events_ext", fromlist=["install"]).install()


def build_app(default_account: str):
    install_extensions(default_account)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from gsemu.control import EmulatorApp

    return EmulatorApp(DomainDispatcherApplication(create_backend_app))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--default-account", default="111111111111",
                        help="account of requests signed with base (non-STS) credentials")
    parser.add_argument("--quiet", action="store_true", default=True,
                        help="do not log each request to stderr (default)")
    parser.add_argument("--verbose", dest="quiet", action="store_false")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin closes: a test harness that dies takes the emulator with it")
    args = parser.parse_args(argv)
    if not (len(args.default_account) == 12 and args.default_account.isdigit()):
        parser.error("--default-account must be 12 digits")

    # Dummy settings so moto never looks for real ones.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    app = build_app(args.default_account)

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    class Handler(MotoRequestHandler):
        """Keeps connections open between requests, as AWS's endpoints do.

        werkzeug closes every connection after one response, because
        http.server cannot skip a body the application left unread. Here a
        request's body (Content-Length) is read whole before the
        application runs, so the next request starts where this one ended,
        and the `Connection: close` werkzeug adds is left out. A chunked
        or `Expect: 100-continue` request is served as werkzeug does,
        closing the connection. Without this, every call of a run was a new
        connection and a new thread: 15% of the emulator's time."""

        keep_alive = False
        # TCP_NODELAY. werkzeug writes a response's headers and its body in
        # separate sends; with Nagle's algorithm the body waited for the
        # client's delayed ACK of the headers, 25-40 ms on every call.
        disable_nagle_algorithm = True

        def run_wsgi(self):
            encoding = self.headers.get("Transfer-Encoding", "")
            length = self.headers.get("Content-Length", "0")
            self.keep_alive = (not encoding and self.headers.get("Expect") is None
                               and length.isdigit())
            if not self.keep_alive:
                return super().run_wsgi()
            wire = self.rfile
            self.rfile = io.BytesIO(wire.read(int(length)))
            try:
                return super().run_wsgi()
            finally:
                self.rfile = wire

        def send_header(self, keyword, value):
            if self.keep_alive and keyword.lower() == "connection" and value.lower() == "close":
                return
            super().send_header(keyword, value)

        def log_request(self, *a, **k):
            if not args.quiet:
                super().log_request(*a, **k)

    server = make_server(args.host, args.port, app, threaded=True, request_handler=Handler)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_on_stdin_eof:
        import threading

        def watch_stdin():
            # read() returns only at EOF: the parent closed the pipe or exited.
            sys.stdin.buffer.read()
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"guardsync-emulator listening on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
