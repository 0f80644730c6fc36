"""A small SageMaker inference container for Hearth's tests: SageMaker's contract (run as
`serve.py serve`, listen on SAGEMAKER_BIND_TO_PORT, GET /ping, POST /invocations) with the model
read from SM_MODEL_DIR (model.json: {"scale": x}). Replies:

- CSV numbers → their sum times the scale, as text/csv (or {"prediction": …} for Accept
  application/json); custom attributes come back prefixed with "seen:";
- "error" → 400 with a message; "env" → the worker's view (environment, argv, model files, pid);
- "alloc:N" → holds N MiB for a few seconds, then answers (memory limit tests).

FAIL_PING=1 in the environment makes /ping answer 500 forever.
"""

import http.server
import json
import os
import sys
import time

if len(sys.argv) < 2 or sys.argv[1] != "serve":
    print(f"expected the 'serve' argument, got {sys.argv[1:]}", file=sys.stderr)
    sys.exit(2)

MODEL_DIR = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
with open(os.path.join(MODEL_DIR, "model.json")) as f:
    MODEL = json.load(f)
HELD = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per reply and no Nagle delay on keep-alive connections.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def reply(self, status, body, content_type="text/plain", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ping":
            self.reply(500 if os.environ.get("FAIL_PING") == "1" else 200, "")
        else:
            self.reply(404, "not found")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if self.path != "/invocations":
            return self.reply(404, "not found")
        extra = {}
        ca = self.headers.get("X-Amzn-SageMaker-Custom-Attributes")
        if ca:
            extra["X-Amzn-SageMaker-Custom-Attributes"] = "seen:" + ca
        if body == "error":
            return self.reply(400, "bad input: the model wants numbers")
        if body == "env":
            view = {
                "env": dict(os.environ),
                "argv": sys.argv,
                "cwd": os.getcwd(),
                "model_files": sorted(os.listdir(MODEL_DIR)),
                "pid": os.getpid(),
                "content_type": self.headers.get("Content-Type"),
                "accept": self.headers.get("Accept"),
            }
            return self.reply(200, json.dumps(view), "application/json", extra)
        if body.startswith("alloc:"):
            HELD.append(b"x" * (int(body[6:]) * 1024 * 1024))
            time.sleep(3)
            HELD.clear()
            return self.reply(200, "allocated", "text/plain", extra)
        try:
            total = sum(float(v) for v in body.strip().split(",")) * MODEL["scale"]
        except ValueError as e:
            return self.reply(415, f"cannot read the payload: {e}")
        if self.headers.get("Accept") == "application/json":
            return self.reply(200, json.dumps({"prediction": total}), "application/json", extra)
        return self.reply(200, repr(total), "text/csv", extra)

    def log_message(self, *args):
        pass


port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
print(f"serving on {port}", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
