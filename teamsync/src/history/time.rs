//! RFC 3339 UTC times without a date library: the run log's lines and the run records.

use std::time::{SystemTime, UNIX_EPOCH};

/// RFC 3339 UTC time with seconds (`2026-11-22T02:50:45Z`).
pub fn rfc3339(time: SystemTime) -> String {
    let (secs, _) = since_epoch(time);
    format!("{}Z", civil(secs))
}

/// RFC 3339 UTC time with milliseconds (`2026-11-22T02:50:45.123Z`): run records, whose
/// order within a second matters.
pub(crate) fn rfc3339_millis(time: SystemTime) -> String {
    let (secs, millis) = since_epoch(time);
    format!("{}.{millis:03}Z", civil(secs))
}

/// Seconds and milliseconds since the epoch (0 for a clock before it).
fn since_epoch(time: SystemTime) -> (u64, u32) {
    time.duration_since(UNIX_EPOCH)
        .map(|d| (d.as_secs(), d.subsec_millis()))
        .unwrap_or((0, 0))
}

/// `YYYY-MM-DDTHH:MM:SS` of seconds since the epoch (Howard Hinnant's civil_from_days).
fn civil(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_315_845)),
            "2026-11-22T02:50:45Z"
        );
        assert_eq!(
            rfc3339_millis(UNIX_EPOCH + Duration::from_millis(1_795_315_845_007)),
            "2026-11-22T02:50:45.007Z"
        );
    }
}
