#!/usr/bin/env python3
"""Run the guide's failover on real Envoy configured with what real istiod generated.

Usage: istio_failover.py ORACLE_JSON [--scenario rollout|in-place]... [--dropped]
       istio_failover.py --dropped

ORACLE_JSON is the output of `scripts/istio-oracle` for productpage's sidecar (clusters,
routes, endpoints). Upstream Envoy ($SMH_ENVOY, else `envoy` on PATH) is started with those
clusters, route configurations and endpoints behind a plain HTTP connection manager listener
on loopback; Istio-only parts are dropped (DROPPED below, printed by --dropped). Loopback HTTP
servers stand in for reviews v1, v2 and v3: every endpoint address of the oracle's output is
rewritten to a loopback port (sorted addresses, one port each from a free block), the
primary's pods (reviews-v1, reviews-v2) and the secondary (reviews-v3, and the remote
ingress gateway that leads to it in global mode) to the stand-ins. EDS clusters read their
endpoints from files (`path_config_source`, replaced by atomic rename), so a rollout is an
EDS push, as istiod sends one.

A client sends GET /reviews/0 with Host reviews.bookinfo:9080 every 100 ms on a fixed
schedule (each request on its own thread, stamped when sent, 5 s timeout), as the drill's
probes do. Answers: `primary` (v1/v2), `failover` (v3), `error` (anything else).

Scenarios:
  rollout   baseline 2 s; the primary's pods are replaced by pods that refuse connections
            (one EDS push with new addresses where nothing listens); once 20 answers in a row
            came from the secondary (or after 20 s), the pods are replaced again by healthy
            ones at new addresses (one EDS push); until 20 primary answers in a row (or 20 s).
  in-place  baseline 2 s; the primary's stand-ins answer 500; once failed over, they answer
            200 again; until 20 primary answers in a row (or 90 s: Envoy un-ejects only after
            baseEjectionTime, at an outlier-detection interval tick).

Prints one JSON object per scenario on stdout: the scenario, the measured times (seconds,
from the break / the restore to the send time of the first failed-over / primary answer),
failed requests (during failover: from the break to the restore; during failback: after the
restore), and the answers run-length encoded. Exit 0 when every scenario ran, 1 when Envoy
did not start, 2 on bad usage; `SKIP: ...` and exit 0 when there is no envoy binary.
"""

import copy
import http.server
import json
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

# What is dropped from istiod's output, and why: each is Istio-only (needs istio-proxy's
# filters, istiod's SDS or the sidecar's iptables), none decides failover.
DROPPED = [
    ("clusters[].transport_socket",
     "Istio mTLS (ISTIO_MUTUAL): UpstreamTlsContext with SDS certificates 'default'/'ROOTCA' "
     "from istiod's 'sds-grpc', ALPN istio-peer-exchange/istio, SNI outbound_.<port>_._.<host>; "
     "the stand-ins speak plaintext HTTP/1.1"),
    ("clusters[].transport_socket_matches",
     "Istio's auto-mTLS choice by endpoint metadata tlsMode (istio: mTLS, disabled: plaintext); "
     "plaintext instead"),
    ("clusters[].filters",
     "istio.metadata_exchange (an istio-proxy network filter, unknown to upstream Envoy)"),
    ("clusters[].upstream_bind_config",
     "inbound cluster's source address 127.0.0.6 (the sidecar's iptables bypass)"),
    ("eds_cluster_config.eds_config.ads",
     "replaced by a path_config_source file per cluster (no ADS server; istiod's pushes are "
     "file replacements)"),
    ("listeners",
     "istiod's listeners (virtualOutbound with Istio's filters: metadata exchange, stats, "
     "original destination) are replaced by one plain HTTP connection manager on loopback "
     "with the router filter and route configuration '9080'"),
]

HOST = "reviews.bookinfo:9080"
INTERVAL = 0.1
STEADY = 20
PRIMARY = ("reviews-v1", "reviews-v2")
SECONDARY = "reviews-v3"


class StandIn(http.server.BaseHTTPRequestHandler):
    """A reviews pod: answers `<name> <code>`; 500 while its name is in `failing`."""
    protocol_version = "HTTP/1.1"
    failing = set()

    def log_message(self, *args):
        pass

    def do_GET(self):
        code = 500 if self.server.name in StandIn.failing else 200
        body = f"{self.server.name} {code}".encode()
        self.send_response(code)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(name, port):
    srv = Server(("127.0.0.1", port), StandIn)
    srv.name = name
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def free_block(n):
    """A base port with n free ports after it (checked by binding each)."""
    for base in range(20000 + (os.getpid() % 200) * 50, 60000, 97):
        socks = []
        try:
            for i in range(n):
                s = socket.socket()
                s.bind(("127.0.0.1", base + i))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    sys.exit("no free block of loopback ports")


def refusing(port):
    """A socket bound to port and never listening: connections are refused, and no one else
    can take the port meanwhile."""
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    return s


def workload_of(lb_endpoint):
    """`reviews-v1` from Istio's endpoint metadata `reviews-v1-0;bookinfo;reviews;v1;...`."""
    w = lb_endpoint.get("metadata", {}).get("filter_metadata", {}).get("istio", {}).get("workload", "")
    parts = w.split(";")
    if len(parts) >= 4 and parts[2] and parts[3]:
        return f"{parts[2]}-{parts[3]}"
    return None


def socket_address(lb_endpoint):
    return lb_endpoint["endpoint"]["address"]["socket_address"]


class Config:
    """istiod's output rewritten for upstream Envoy on loopback."""

    def __init__(self, oracle, base):
        self.oracle = oracle
        self.clusters = []
        self.assignments = {}
        self.routes = None
        addresses = set()
        for cla in oracle["endpoints"]:
            for loc in cla.get("endpoints", []):
                for e in loc.get("lb_endpoints", []):
                    a = socket_address(e)
                    addresses.add((a["address"], a["port_value"]))
        for c in oracle["clusters"]:
            for loc in c.get("load_assignment", {}).get("endpoints", []):
                for e in loc.get("lb_endpoints", []):
                    a = socket_address(e)
                    addresses.add((a["address"], a["port_value"]))
        # Deterministic: sorted addresses, ports base+1... ; base+0 is the listener, then admin.
        self.port_of = {a: base + 2 + i for i, a in enumerate(sorted(addresses))}
        self.next_port = base + 2 + len(addresses)
        # Which stand-in each address is: pods by Istio's workload metadata, the remote
        # gateway of reviews (global mode) by its cluster.
        self.stand_in = {}
        for cla in oracle["endpoints"]:
            for loc in cla.get("endpoints", []):
                for e in loc.get("lb_endpoints", []):
                    w = workload_of(e)
                    if w and w.startswith("reviews-"):
                        a = socket_address(e)
                        self.stand_in[(a["address"], a["port_value"])] = w
        for c in oracle["clusters"]:
            if c["name"].startswith("outbound|9080||reviews.bookinfo.svc.") and c["name"].endswith(".global"):
                for loc in c.get("load_assignment", {}).get("endpoints", []):
                    for e in loc.get("lb_endpoints", []):
                        a = socket_address(e)
                        self.stand_in[(a["address"], a["port_value"])] = SECONDARY
        for want in PRIMARY + (SECONDARY,):
            if want not in self.stand_in.values():
                sys.exit(f"the oracle's output has no endpoint for {want}")

    def rewrite(self, lb_endpoint, ports):
        e = copy.deepcopy(lb_endpoint)
        a = socket_address(e)
        key = (a["address"], a["port_value"])
        a["address"] = "127.0.0.1"
        a["port_value"] = ports.get(self.stand_in.get(key), self.port_of[key]) if ports else self.port_of[key]
        return e

    def assignment(self, cla, ports):
        cla = copy.deepcopy(cla)
        cla.pop("@type", None)
        for loc in cla.get("endpoints", []):
            loc["lb_endpoints"] = [self.rewrite(e, ports) for e in loc.get("lb_endpoints", [])]
        return cla

    def cluster(self, c, eds_dir):
        c = copy.deepcopy(c)
        c.pop("@type", None)
        for k in ("transport_socket", "transport_socket_matches", "filters", "upstream_bind_config"):
            c.pop(k, None)
        if "load_assignment" in c:
            c["load_assignment"] = self.assignment(c["load_assignment"], {})
        if c.get("type") == "EDS":
            name = c["eds_cluster_config"].get("service_name", c["name"])
            c["eds_cluster_config"]["eds_config"] = {
                "path_config_source": {"path": os.path.join(eds_dir, eds_file(name))},
                "resource_api_version": "V3", "initial_fetch_timeout": "0s"}
        return c


def eds_file(name):
    return "".join(ch if ch.isalnum() else "_" for ch in name) + ".json"


class Lab:
    def __init__(self, oracle):
        envoy = os.environ.get("SMH_ENVOY") or shutil.which("envoy")
        if not envoy:
            print("SKIP: no envoy binary (set SMH_ENVOY or put envoy on PATH)")
            sys.exit(0)
        self.dir = tempfile.mkdtemp(prefix="envoy-istio-")
        self.base = free_block(200)
        self.cfg = Config(oracle, self.base)
        self.listener = self.base
        self.admin = self.base + 1
        self.servers = []
        self.sockets = []
        # The stand-ins at the addresses istiod sent.
        self.ports = {}
        for key, name in sorted(self.cfg.stand_in.items()):
            self.ports.setdefault(name, self.cfg.port_of[key])
        for name, port in sorted(self.ports.items()):
            self.servers.append(serve(name, port))
        self.write_eds(self.ports)
        boot = {
            "node": {"id": "sidecar~10.10.0.10~productpage-v1-0.bookinfo~bookinfo.svc.cluster.local",
                     "cluster": "productpage.bookinfo"},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": self.admin}}},
            "static_resources": {
                "clusters": [self.cfg.cluster(c, self.dir) for c in oracle["clusters"]],
                "listeners": [self.listener_config(oracle)]}}
        path = os.path.join(self.dir, "bootstrap.json")
        with open(path, "w") as f:
            json.dump(boot, f, indent=1)
        self.log = open(os.path.join(self.dir, "envoy.log"), "w")
        self.proc = subprocess.Popen([envoy, "-c", path, "--concurrency", "1", "-l", "warning",
                                      "--base-id", str(self.base)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                self.log.flush()
                sys.stderr.write(open(os.path.join(self.dir, "envoy.log")).read()[-3000:])
                sys.exit(f"envoy exited with {self.proc.returncode} on the converted configuration")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/ready", timeout=0.5)
                break
            except Exception:
                if time.monotonic() > deadline:
                    self.close()
                    sys.exit("envoy did not become ready in 30 s")
                time.sleep(0.05)
        # Ready means clusters are initialised; wait until the route answers from the primary.
        deadline = time.monotonic() + 10
        while self.get()[0] != "primary":
            if time.monotonic() > deadline:
                self.close()
                sys.exit("envoy does not route reviews to the primary")
            time.sleep(0.05)

    def listener_config(self, oracle):
        routes = [r for r in oracle["routes"] if r.get("name") == "9080"]
        if len(routes) != 1:
            sys.exit("the oracle's output has no route configuration 9080")
        rc = copy.deepcopy(routes[0])
        rc.pop("@type", None)
        hcm = {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
               "stat_prefix": "outbound_0.0.0.0_9080", "route_config": rc,
               "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                   "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}
        return {"name": "0.0.0.0_9080", "address": {"socket_address": {
            "address": "127.0.0.1", "port_value": self.listener}},
            "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                            "typed_config": hcm}]}]}

    def write_eds(self, ports):
        """One EDS push: every load assignment, the stand-ins at `ports`."""
        for cla in self.cfg.oracle["endpoints"]:
            doc = {"version_info": str(time.monotonic_ns()), "resources": [dict(
                {"@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"},
                **self.cfg.assignment(cla, ports))]}
            path = os.path.join(self.dir, eds_file(cla["cluster_name"]))
            with open(path + ".tmp", "w") as f:
                json.dump(doc, f)
            os.rename(path + ".tmp", path)

    def new_port(self):
        p = self.cfg.next_port
        self.cfg.next_port += 1
        return p

    def get(self):
        req = urllib.request.Request(f"http://127.0.0.1:{self.listener}/reviews/0", headers={"Host": HOST})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                body = r.read().decode()
                code = r.status
        except urllib.error.HTTPError as e:
            code, body = e.code, e.read().decode()[:60]
        except Exception as e:  # no answer
            code, body = 0, type(e).__name__
        name = body.split(" ")[0] if code == 200 else ""
        kind = "primary" if name in PRIMARY else "failover" if name == SECONDARY else "error"
        return kind, code, body

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        for s in self.servers:
            s.shutdown()
            s.server_close()
        for s in self.sockets:
            s.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Probes:
    """Requests on a fixed schedule, each on its own thread."""

    def __init__(self, lab):
        self.lab = lab
        self.answers = []  # (sent at, kind, code, body)
        self.lock = threading.Lock()
        self.stop = False
        self.t0 = time.monotonic()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        k = 0
        threads = []
        while not self.stop:
            at = self.t0 + k * INTERVAL
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = threading.Thread(target=self.one, args=(at - self.t0,), daemon=True)
            t.start()
            threads.append(t)
            k += 1
        for t in threads:
            t.join()

    def one(self, at):
        kind, code, body = self.lab.get()
        with self.lock:
            self.answers.append((at, kind, code, body))

    def now(self):
        return time.monotonic() - self.t0

    def steady(self, since, kind):
        """Whether the last STEADY answers sent after `since` are all `kind` (answers sorted
        by send time; only those whose predecessors have all answered)."""
        with self.lock:
            a = sorted(x for x in self.answers if x[0] >= since)
        return len(a) >= STEADY and all(x[1] == kind for x in a[-STEADY:])

    def wait_for(self, since, kind, limit):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.steady(since, kind):
                return True
            time.sleep(0.05)
        return False

    def finish(self):
        self.stop = True
        self.thread.join()
        return sorted(self.answers)


def rle(answers):
    runs = []
    for at, kind, code, body in answers:
        label = f"{code} {body}" if kind == "error" else kind
        if runs and runs[-1][1] == label:
            runs[-1][2] += 1
        else:
            runs.append([round(at, 2), label, 1])
    return " | ".join(f"t={t} {label} x{n}" for t, label, n in runs)


def measure(name, answers, t_break, t_restore, steady_failover, steady_failback):
    def first(kind, since):
        return next((at - since for at, k, _, _ in answers if at >= since and k == kind), None)
    fo = [a for a in answers if t_break <= a[0] < t_restore]
    fb = [a for a in answers if a[0] >= t_restore]
    return {
        "scenario": name,
        "baseline_primary": sum(1 for a in answers if a[0] < t_break and a[1] == "primary"),
        "baseline_total": sum(1 for a in answers if a[0] < t_break),
        "time_to_failover_s": first("failover", t_break),
        "time_to_failback_s": first("primary", t_restore),
        "failed_during_failover": sum(1 for a in fo if a[1] == "error"),
        "failed_during_failback": sum(1 for a in fb if a[1] == "error"),
        "requests": len(answers),
        "steady_failover": steady_failover,
        "steady_failback": steady_failback,
        "restore_at_s": round(t_restore - t_break, 3),
        "answers": rle(answers),
    }


def rollout(lab):
    p = Probes(lab)
    p.wait_for(0, "primary", 10)
    t_break = p.now()
    broken = {}
    for name in PRIMARY:
        port = lab.new_port()
        lab.sockets.append(refusing(port))
        broken[name] = port
    lab.write_eds(dict(lab.ports, **broken))
    ok_fo = p.wait_for(t_break, "failover", 20)
    t_restore = p.now()
    restored = {}
    for name in PRIMARY:
        port = lab.new_port()
        lab.servers.append(serve(name, port))
        restored[name] = port
    lab.write_eds(dict(lab.ports, **restored))
    ok_fb = p.wait_for(t_restore, "primary", 20)
    return measure("rollout", p.finish(), t_break, t_restore, ok_fo, ok_fb)


def in_place(lab):
    p = Probes(lab)
    p.wait_for(0, "primary", 10)
    t_break = p.now()
    StandIn.failing.update(PRIMARY)
    ok_fo = p.wait_for(t_break, "failover", 20)
    t_restore = p.now()
    StandIn.failing.clear()
    ok_fb = p.wait_for(t_restore, "primary", 90)
    return measure("in-place", p.finish(), t_break, t_restore, ok_fo, ok_fb)


SCENARIOS = {"rollout": rollout, "in-place": in_place}


def main(argv):
    if argv == ["--dropped"]:
        for what, why in DROPPED:
            print(f"{what}\t{why}")
        return 0
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    path, rest = argv[0], argv[1:]
    names = []
    while rest:
        if rest[0] == "--scenario" and len(rest) >= 2 and rest[1] in SCENARIOS:
            names.append(rest[1])
            rest = rest[2:]
        else:
            print(f"unexpected argument {rest[0]!r}\n" + __doc__, file=sys.stderr)
            return 2
    with open(path) as f:
        oracle = json.load(f)
    for name in names or list(SCENARIOS):
        lab = Lab(oracle)
        try:
            print(json.dumps(SCENARIOS[name](lab), sort_keys=True), flush=True)
        finally:
            lab.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
