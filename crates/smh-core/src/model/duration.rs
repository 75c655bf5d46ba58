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

/// kubectl's age and duration columns (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`),
/// for a whole number of seconds: about two significant figures, a second unit only while it
/// is small (`2m30s`, `5h10m`, `3d4h`, `2y70d`). Up to one second in the future (clock skew)
/// is `0s`; more is `<invalid>`. The one implementation of it: `failover list` and the
/// simulated API server's tables print ages with it.
pub(crate) fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The age kubectl prints for an object created at `then`, seen at `now`.
pub fn age(now: jiff::Timestamp, then: jiff::Timestamp) -> String {
    human_duration(now.as_second() - then.as_second())
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
    fn human_durations_at_kubectls_boundaries() {
        let d = 86400;
        for (s, want) in [
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (150, "2m30s"),
            (599, "9m59s"),
            (600, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (8 * 3600 - 1, "7h59m"),
            (8 * 3600, "8h"),
            (48 * 3600 - 1, "47h"),
            (48 * 3600, "2d"),
            (50 * 3600, "2d2h"),
            (8 * d - 1, "7d23h"),
            (8 * d, "8d"),
            (400 * d, "400d"),
            (730 * d - 1, "729d"),
            (730 * d, "2y"),
            (800 * d, "2y70d"),
            (3 * 365 * d, "3y"),
            (8 * 365 * d - 1, "7y364d"),
            (8 * 365 * d, "8y"),
            (20 * 365 * d + 100 * d, "20y"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn ages_from_timestamps() {
        let t0: jiff::Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let at = |s: i64| jiff::Timestamp::from_second(t0.as_second() + s).unwrap();
        assert_eq!(age(at(150), t0), "2m30s");
        assert_eq!(age(at(800 * 86400), t0), "2y70d");
        // Created in the future (clock skew): as kubectl says it.
        assert_eq!(age(t0, at(1)), "0s");
        assert_eq!(age(t0, at(30)), "<invalid>");
    }

    #[test]
    fn formats_like_protobuf() {
        assert_eq!(format_proto_duration(Duration::from_secs(10)), "10s");
        assert_eq!(format_proto_duration(Duration::from_millis(500)), "0.5s");
        assert_eq!(format_proto_duration(Duration::from_millis(1250)), "1.25s");
    }
}
