"""A latency-bound source for the MPI scaling bench: a Zarr v2 array served over HTTP on
127.0.0.1 with a fixed delay before every answer (as a distant object store answers).

    python serve.py make DIR/data.zarr          # 4096 x 4096 float32 in 128 x 128 chunks
    python serve.py serve DIR DELAY_MS PORTFILE # serves DIR; writes its port to PORTFILE
"""
import http.server
import socketserver
import sys
import threading
import time


def make(path):
    import numpy as np
    import zarr

    x = np.random.default_rng(14).standard_normal((4096, 4096)).astype(np.float32)
    z = zarr.create_array(store=path, shape=x.shape, chunks=(128, 128), dtype="float32",
                          zarr_format=2, overwrite=True)
    z[:] = x
    print(f"{path}: {x.shape} float32, 1024 chunks; mean {float(x.mean(dtype=np.float64)):.9f}")


def serve(root, delay_ms, portfile):
    delay = float(delay_ms) / 1000.0
    lock = threading.Lock()
    count = {"n": 0}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=root, **k)

        def do_GET(self):
            time.sleep(delay)
            with lock:
                count["n"] += 1
            super().do_GET()

        def log_message(self, *a):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        request_queue_size = 256

    s = Server(("127.0.0.1", 0), Handler)
    with open(portfile, "w") as f:
        f.write(str(s.server_address[1]))
    s.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        serve(sys.argv[2], sys.argv[3], sys.argv[4])
