"""The peer of bench/sagemaker: Python xgboost behind a minimal HTTP server, serving the same
`xgboost-model` file as the Hearth endpoint. `POST /invocations` with text/csv rows answers the
predictions as text/csv, one call to `inplace_predict` per request (stdlib `http.server`,
threading, HTTP/1.1 keep-alive).

Usage: python peer_server.py MODEL_FILE PORT   (prints "ready" once listening)
"""

import http.server
import sys

import numpy as np
import xgboost as xgb

booster = xgb.Booster()
booster.load_model(sys.argv[1])
booster.set_param({"nthread": 1})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per reply and no Nagle delay on keep-alive connections.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            rows = [[float(v) if v else np.nan for v in line.split(",")] for line in body.decode().strip().splitlines()]
            preds = booster.inplace_predict(np.asarray(rows, dtype=np.float32))
            out = ",".join(repr(float(p)) for p in preds).encode()
            status, ctype = 200, "text/csv; charset=utf-8"
        except Exception as e:  # the container answers 415 for unreadable payloads
            out, status, ctype = str(e).encode(), 415, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        if self.headers.get("Connection", "").lower() == "keep-alive":
            self.send_header("Connection", "keep-alive")  # HTTP/1.0 clients (ab -k) need it said
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog (5) resets connections at 32 clients
    daemon_threads = True


server = Server(("127.0.0.1", int(sys.argv[2])), Handler)
print("ready", flush=True)
server.serve_forever()
