"""A local stand-in for the AWS Lambda Runtime API, for one invocation.

The Runtime API is a documented HTTP interface
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):

  GET  /2018-06-01/runtime/invocation/next            -> the event, with the
       Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn and
       -Trace-Id headers
  POST /2018-06-01/runtime/invocation/{id}/response   -> the function's result
  POST /2018-06-01/runtime/invocation/{id}/error      -> its error
  POST /2018-06-01/runtime/init/error                 -> a failed start

Usage: runtime_api.py --event JSON --deadline-ms N  (N from now)
Prints "listening 127.0.0.1:PORT", then, when the function answers, one line
"RESULT response|error|init_error <body as one JSON line>" (or "RESULT
too_large {"bytes": N}" for a body over Lambda's 6 MB) and keeps serving:
a second `next` blocks, as in Lambda when no event is waiting. The test kills
it (and the function) afterwards.
"""

import argparse
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
# Lambda's limit on a synchronous invocation's response (and error): 6 MB.
MAX_PAYLOAD = 6 * 1024 * 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--event", required=True)
    ap.add_argument("--deadline-ms", type=int, default=900_000)
    args = ap.parse_args()
    request_id = str(uuid.uuid4())
    served = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a) -> None:  # quiet
            pass

        def _reply(self, status: int, body: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/invocation/next":
                return self._reply(404, b'{"errorMessage": "not found"}')
            if served.is_set():
                time.sleep(3600)  # no second event
                return
            served.set()
            deadline = int(time.time() * 1000) + args.deadline_ms
            self._reply(200, args.event.encode(), {
                "Lambda-Runtime-Aws-Request-Id": request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline),
                "Lambda-Runtime-Invoked-Function-Arn":
                    "arn:aws:lambda:us-east-1:111111111111:function:guardsync",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
            })

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            kinds = {
                f"{PREFIX}/invocation/{request_id}/response": "response",
                f"{PREFIX}/invocation/{request_id}/error": "error",
                f"{PREFIX}/init/error": "init_error",
            }
            kind = kinds.get(self.path)
            if kind is None:
                return self._reply(404, b'{"errorMessage": "unknown request id"}')
            # Lambda refuses a response or an error over 6 MB
            # (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
            # the invocation then fails with a payload-size error instead.
            if len(body) > MAX_PAYLOAD:
                print(f"RESULT too_large {json.dumps({'bytes': len(body)})}", flush=True)
                return self._reply(413, b'{"errorMessage": "Exceeded maximum allowed payload size (6291556 bytes)."}')
            try:
                one_line = json.dumps(json.loads(body or b"null"))
            except ValueError:
                one_line = json.dumps(body.decode(errors="replace"))
            print(f"RESULT {kind} {one_line}", flush=True)
            self._reply(202, b'{"status": "OK"}')

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
