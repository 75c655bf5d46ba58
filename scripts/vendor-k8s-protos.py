#!/usr/bin/env python3
"""Vendor Kubernetes' protobuf definitions for the simulated clusters.

Usage: scripts/vendor-k8s-protos.py GOMODCACHE VERSION

Copies the `generated.proto` files of the API groups the simulator decodes from the Go modules
k8s.io/api@VERSION and k8s.io/apimachinery@VERSION (as `go mod download` or scripts/peers/build
leave them under GOMODCACHE, e.g. ~/go/pkg/mod) into crates/smh-sim/proto/, at their import
paths, without comments (documentation, most of their size) but with their license header. The simulator compiles them at
build time (protox) and decodes kubectl's protobuf request bodies with them (prost-reflect).
"""
import pathlib
import re
import sys

API_GROUPS = [
    "core/v1", "apps/v1", "rbac/v1", "authorization/v1", "authentication/v1", "batch/v1",
    "policy/v1", "networking/v1", "discovery/v1", "autoscaling/v1", "autoscaling/v2",
    "coordination/v1", "scheduling/v1",
]
APIMACHINERY = [
    "pkg/apis/meta/v1", "pkg/runtime", "pkg/runtime/schema", "pkg/util/intstr",
    "pkg/api/resource",
]


def strip(text):
    """Drop comments, keeping the license header (everything before `syntax`)."""
    out = []
    header = True
    for line in text.splitlines():
        if line.startswith("syntax"):
            header = False
        if not header and re.match(r"^\s*//", line):
            continue
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"


def main():
    modcache, version = pathlib.Path(sys.argv[1]), sys.argv[2]
    dest = pathlib.Path(__file__).resolve().parent.parent / "crates/smh-sim/proto"
    for module, dirs in (("api", API_GROUPS), ("apimachinery", APIMACHINERY)):
        src_root = modcache / "k8s.io" / f"{module}@{version}"
        for d in dirs:
            src = src_root / d / "generated.proto"
            out = dest / "k8s.io" / module / d / "generated.proto"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(strip(src.read_text()))
    (dest / "LICENSE").write_text((modcache / "k8s.io" / f"api@{version}" / "LICENSE").read_text())
    (dest / "SOURCE").write_text(
        f"k8s.io/api@{version} and k8s.io/apimachinery@{version} (Go modules), generated.proto\n"
        "files of the groups listed in scripts/vendor-k8s-protos.py, comments removed.\n"
    )


if __name__ == "__main__":
    main()
