#!/usr/bin/env python3
"""Vendor Istio's networking CRDs for the simulated clusters.

Usage: scripts/vendor-istio-crds.py ISTIO_API/kubernetes/customresourcedefinitions.gen.yaml

Reads istio/api's generated CRD file, keeps the five networking.istio.io CRDs the failover
workflow uses (DestinationRule, EnvoyFilter, Gateway, ServiceEntry, VirtualService), drops every
`description` field (they are most of the size and the simulator does not serve them), and writes
crates/smh-sim/src/crds/istio-networking.yaml; versions with equal schemas share one YAML anchor. Istio's license and the source commit sit beside the output.
"""
import sys

import yaml

KEEP = [
    "destinationrules.networking.istio.io",
    "envoyfilters.networking.istio.io",
    "gateways.networking.istio.io",
    "serviceentries.networking.istio.io",
    "virtualservices.networking.istio.io",
]


def strip(node, parent_key=None):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            # `description` is documentation, except where it is a property *name* inside a
            # schema's `properties` map.
            if k == "description" and parent_key != "properties":
                continue
            out[k] = strip(v, k)
        return out
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main():
    src = sys.argv[1]
    with open(src) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_name = {d["metadata"]["name"]: d for d in docs}
    out = []
    for name in KEEP:
        crd = strip(by_name[name])
        # Versions whose schemas are equal share one node, so the YAML carries it once (as an
        # anchor and aliases).
        seen = []
        for v in crd["spec"]["versions"]:
            for other in seen:
                if other == v["schema"]:
                    v["schema"] = other
                    break
            else:
                seen.append(v["schema"])
        out.append(crd)
    with open("crates/smh-sim/src/crds/istio-networking.yaml", "w") as f:
        f.write("# Istio networking CRDs, vendored by scripts/vendor-istio-crds.py from istio/api\n")
        f.write("# (see SOURCE and LICENSE in this directory); `description` fields removed.\n")
        yaml.safe_dump_all(out, f, sort_keys=False, width=1000, default_flow_style=False)


if __name__ == "__main__":
    main()
