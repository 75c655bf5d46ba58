//! Durations as users write them: Go's `time.ParseDuration` syntax (`500ms`, `10s`, `1m30s`,
//! `1.5h`), which is also what kubectl accepts for `--request-timeout` and a superset of the
//! protobuf JSON form (`10s`, `0.5s`) that SMH manifests use.

use std::time::Duration;

/// Parse a Go-style duration. A bare `0` is accepted, as Go does; negative values are not.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("empty duration".to_string());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.starts_with('-') {
        return Err(format!("invalid duration {input:?}: must not be negative"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut total_nanos: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| {
                format!("invalid duration {input:?}: missing unit (use ms, s, m or h)")
            })?;
        if num_end == 0 {
            return Err(format!("invalid duration {input:?}: expected a number"));
        }
        let value: f64 = rest[..num_end].parse().map_err(|_| {
            format!(
                "invalid duration {input:?}: bad number {:?}",
                &rest[..num_end]
            )
        })?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let nanos_per = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => {
                return Err(format!(
                    "invalid duration {input:?}: unknown unit {unit:?} (use ms, s, m or h)"
                ));
            }
        };
        total_nanos += value * nanos_per;
    }
    if !total_nanos.is_finite() || total_nanos > u64::MAX as f64 {
        return Err(format!("invalid duration {input:?}: too large"));
    }
    Ok(Duration::from_nanos(total_nanos.round() as u64))
}

/// Format a duration the way protobuf JSON and Istio write it: seconds with an `s` suffix
/// and only as many fractional digits as needed (`10s`, `0.5s`, `1.250s` → `1.25s`).
pub fn format_proto_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let nanos = d.subsec_nanos();
    if nanos == 0 {
        format!("{secs}s")
    } else {
        let frac = format!("{nanos:09}");
        format!("{secs}.{}s", frac.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0.5s").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in ["", "10", "s", "-1s", "10x", "1..5s", "ms10"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn formats_like_protobuf() {
        assert_eq!(format_proto_duration(Duration::from_secs(10)), "10s");
        assert_eq!(format_proto_duration(Duration::from_millis(500)), "0.5s");
        assert_eq!(format_proto_duration(Duration::from_millis(1250)), "1.25s");
    }
}
