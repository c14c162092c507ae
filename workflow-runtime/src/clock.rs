//! Execution time: a wall-clock base that advances with tokio's clock.
//!
//! History timestamps, `$$.Execution.StartTime`, `$$.State.EnteredTime` and Wait deadlines are
//! milliseconds since the Unix epoch. They come from a [`Clock`] that fixes a wall-clock base when
//! the execution starts and from then on advances with [`tokio::time::Instant`]. On tokio's paused
//! clock (`#[tokio::test(start_paused = true)]`, `tokio::time::pause()`), Waits, retry backoff and
//! timeouts therefore take no real time, and the recorded timestamps still move forward exactly as
//! the waits say.

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::time::Instant;

/// Wall-clock time for one execution, advancing with tokio's (possibly paused) clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_ms: i64,
    base: Instant,
}

impl Clock {
    /// A clock that reads `base_ms` (milliseconds since the epoch) now.
    pub fn starting_at(base_ms: i64) -> Clock {
        Clock {
            base_ms,
            base: Instant::now(),
        }
    }

    /// A clock that reads the system's wall-clock time now.
    pub fn system() -> Clock {
        Clock::starting_at(Utc::now().timestamp_millis())
    }

    /// Milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.base.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.base_ms.saturating_add(elapsed)
    }

    /// The tokio instant at which this clock reads `ms` (now, if `ms` is in the past).
    pub fn instant_at(&self, ms: i64) -> Instant {
        let now_ms = self.now_ms();
        let now = Instant::now();
        if ms <= now_ms {
            return now;
        }
        let ahead = u64::try_from(ms.saturating_sub(now_ms)).unwrap_or(u64::MAX);
        // Cap at about 30 years so the addition cannot overflow tokio's instant.
        let ahead = ahead.min(1_000_000_000_000);
        now + std::time::Duration::from_millis(ahead)
    }
}

/// Formats milliseconds since the epoch as AWS does: `2024-01-02T03:04:05.678Z`.
pub fn format_ms(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

/// Parses a timestamp written by [`format_ms`] (or any RFC 3339 timestamp) back to milliseconds.
pub fn parse_ms(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        ] {
            assert_eq!(format_ms(ms), text);
            assert_eq!(parse_ms(text), Some(ms));
        }
        assert_eq!(parse_ms("not a time"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn advances_with_paused_tokio_time() {
        let clock = Clock::starting_at(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        assert_eq!(clock.now_ms(), 6_000);
        let at = clock.instant_at(16_000);
        assert_eq!(at - Instant::now(), std::time::Duration::from_secs(10));
        assert_eq!(clock.instant_at(0), Instant::now());
    }
}
