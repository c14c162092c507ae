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
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use std::time::Duration;
/// use workflow_runtime::clock::{format_ms, Clock};
///
/// // On tokio's paused clock an hour passes at once, and the clock reads an hour later.
/// let clock = Clock::starting_at(1_704_067_200_000); // 2024-01-01T00:00:00Z
/// tokio::time::sleep(Duration::from_secs(3600)).await;
/// assert_eq!(format_ms(clock.now_ms()), "2024-01-01T01:00:00.000Z");
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_ms: i64,
    base: Instant,
}

impl Clock {
    /// A clock that reads `base_ms` (milliseconds since the epoch) now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let clock = workflow_runtime::clock::Clock::starting_at(1_000);
    /// assert_eq!(clock.now_ms(), 1_000);
    /// # }
    /// ```
    pub fn starting_at(base_ms: i64) -> Clock {
        Clock {
            base_ms,
            base: Instant::now(),
        }
    }

    /// A clock that reads the system's wall-clock time now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let clock = workflow_runtime::clock::Clock::system();
    /// assert!(clock.now_ms() > 1_700_000_000_000); // after November 2023
    /// # }
    /// ```
    pub fn system() -> Clock {
        Clock::starting_at(Utc::now().timestamp_millis())
    }

    /// Milliseconds since the epoch.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let clock = workflow_runtime::clock::Clock::starting_at(0);
    /// tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    /// assert_eq!(clock.now_ms(), 1500);
    /// # }
    /// ```
    pub fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.base.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.base_ms.saturating_add(elapsed)
    }

    /// The tokio instant at which this clock reads `ms` (now, if `ms` is in the past).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use tokio::time::Instant;
    /// use workflow_runtime::clock::Clock;
    ///
    /// let clock = Clock::starting_at(10_000);
    /// // A Wait until 15 s after the epoch sleeps until 5 s from now.
    /// tokio::time::sleep_until(clock.instant_at(15_000)).await;
    /// assert_eq!(clock.now_ms(), 15_000);
    /// assert!(clock.instant_at(0) <= Instant::now()); // the past is now
    /// # }
    /// ```
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
///
/// ```
/// use workflow_runtime::clock::format_ms;
///
/// assert_eq!(format_ms(1_704_164_645_678), "2024-01-02T03:04:05.678Z");
/// assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
/// ```
pub fn format_ms(ms: i64) -> String {
    let mut out = String::with_capacity(24);
    write_ms(ms, &mut out);
    out
}

/// Appends [`format_ms`]'s text to `out` (no allocation for years 0000–9999).
pub(crate) fn write_ms(ms: i64, out: &mut String) {
    // Years 0000–9999 (every time a run meets) are written directly; chrono writes the rest.
    const MS_PER_DAY: i64 = 86_400_000;
    const FIRST: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00Z
    const END: i64 = 253_402_300_800_000; // 10000-01-01T00:00:00Z
    if !(FIRST..END).contains(&ms) {
        match DateTime::<Utc>::from_timestamp_millis(ms) {
            Some(t) => out.push_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => out.push_str("1970-01-01T00:00:00.000Z"),
        }
        return;
    }
    let (days, in_day) = (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    let secs = in_day / 1000;
    let mut text = *b"0000-00-00T00:00:00.000Z";
    for (at, width, n) in [
        (0, 4, year),
        (5, 2, month),
        (8, 2, day),
        (11, 2, secs / 3600),
        (14, 2, secs / 60 % 60),
        (17, 2, secs % 60),
        (20, 3, in_day % 1000),
    ] {
        let mut n = n;
        for d in text[at..at + width].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    // Only ASCII digits were written into ASCII text.
    out.push_str(std::str::from_utf8(&text).unwrap_or("1970-01-01T00:00:00.000Z"));
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses a timestamp written by [`format_ms`] (or any RFC 3339 timestamp) back to milliseconds.
///
/// ```
/// use workflow_runtime::clock::{format_ms, parse_ms};
///
/// assert_eq!(parse_ms("2024-01-02T03:04:05.678Z"), Some(1_704_164_645_678));
/// assert_eq!(parse_ms(&format_ms(42)), Some(42));
/// assert_eq!(parse_ms("yesterday"), None);
/// ```
pub fn parse_ms(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_chrono() {
        let chrono_text = |ms: i64| {
            DateTime::<Utc>::from_timestamp_millis(ms)
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        };
        let mut ms: i64 = -62_167_219_200_000;
        let mut step: i64 = 1;
        while ms < 253_402_300_800_000 + 86_400_000 {
            assert_eq!(Some(format_ms(ms)), chrono_text(ms), "{ms}");
            ms += step;
            // Visit every part of the range: small steps near the start, then growing ones
            // with odd remainders.
            step = (step * 3 + 7).min(9_876_543_210_987);
        }
        // Every 29th day of the years 0000–9999, at a time of day that moves.
        let mut ms: i64 = -62_167_219_200_000;
        while ms < 253_402_300_800_000 {
            assert_eq!(Some(format_ms(ms)), chrono_text(ms), "{ms}");
            ms += 29 * 86_400_000 + 3_723_456;
        }
        for ms in [
            -1,
            0,
            1,
            999,
            86_399_999,
            951_782_400_000,   // 2000-02-29
            4_107_542_399_999, // 2100-02-28T23:59:59.999
            4_107_542_400_000, // 2100-03-01
            253_402_300_799_999,
            253_402_300_800_000,
            -62_167_219_200_001,
        ] {
            assert_eq!(Some(format_ms(ms)), chrono_text(ms), "{ms}");
        }
    }

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
