//! Wall-clock time as the store keeps it (Unix milliseconds) and as people read it (RFC 3339).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, Unix milliseconds.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Unix milliseconds as RFC 3339 UTC.
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Unix milliseconds as RFC 3339 UTC with exactly three decimals, so that such strings sort
/// as the times they name.
pub fn rfc3339_millis(ms: i64) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// RFC 3339 to Unix milliseconds; the error says what was expected.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time such as 2026-03-02T08:00:00Z ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ms = parse_rfc3339("2026-03-02T08:00:00Z").unwrap();
        assert_eq!(ms, 1_772_438_400_000);
        assert_eq!(rfc3339(ms), "2026-03-02T08:00:00Z");
        assert!(parse_rfc3339("tomorrow").unwrap_err().contains("RFC 3339"));
        assert_eq!(rfc3339_millis(ms + 5), "2026-03-02T08:00:00.005Z");
        assert!(rfc3339_millis(ms) < rfc3339_millis(ms + 1));
    }
}
