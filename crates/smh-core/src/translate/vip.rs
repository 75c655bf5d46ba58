//! SMH's deterministic virtual IPs from `240.0.0.0/4`
//! (`translation/utils/traffictargetutils/unique_ip.go`).

use std::net::Ipv4Addr;

/// Scope string SMH hashes in for FailoverService ServiceEntries.
pub(crate) const FAILOVER_SERVICE_SCOPE: &str = "failover-service";

/// 32-bit FNV-1 (multiply, then xor; *not* FNV-1a).
pub(crate) fn fnv1_32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h = h.wrapping_mul(0x0100_0193);
        h ^= u32::from(*b);
    }
    h
}

/// The VIP SMH gives a resource: FNV-1 over `name + namespace + clusterName + scope`, the
/// hash's bytes little-endian, the first byte OR 240 (the other bytes are not masked).
/// FailoverServices use an empty cluster name and [`FAILOVER_SERVICE_SCOPE`].
pub(crate) fn unique_ip(name: &str, namespace: &str, cluster: &str, scope: &str) -> Ipv4Addr {
    let input = format!("{name}{namespace}{cluster}{scope}");
    let h = fnv1_32(input.as_bytes());
    let b = h.to_le_bytes();
    Ipv4Addr::new(b[0] | 0xf0, b[1], b[2], b[3])
}

/// The VIP of a FailoverService's ServiceEntry.
pub(crate) fn failover_service_ip(name: &str, namespace: &str) -> Ipv4Addr {
    unique_ip(name, namespace, "", FAILOVER_SERVICE_SCOPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smh_test_vectors() {
        assert_eq!(
            failover_service_ip("failover-service", "failover-service-namespace").to_string(),
            "247.153.147.39"
        );
        assert_eq!(
            failover_service_ip("reviews-failover", "service-mesh-hub").to_string(),
            "240.76.63.152"
        );
    }

    #[test]
    fn fnv1_reference_values() {
        // FNV-1 32-bit reference values (offset basis for empty input).
        assert_eq!(fnv1_32(b""), 0x811c_9dc5);
        assert_eq!(fnv1_32(b"a"), 0x050c_5d7e);
        assert_eq!(fnv1_32(b"foobar"), 0x31f0_b262);
    }

    #[test]
    fn always_in_240_slash_4() {
        for n in ["a", "b", "reviews", "x-y-z"] {
            let ip = failover_service_ip(n, "ns");
            assert_eq!(ip.octets()[0] & 0xf0, 0xf0, "{ip}");
        }
    }
}
