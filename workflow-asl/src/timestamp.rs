//! Timestamps as Step Functions reads them: the `IsTimestamp` test, the `Timestamp…` Choice
//! comparisons and the Wait state's `Timestamp` / `TimestampPath`.
//!
//! Step Functions' error text for a bad Wait timestamp ("…does not reference a valid ISO-8601
//! extended offset date-time format string") is the description of Java's
//! `DateTimeFormatter.ISO_OFFSET_DATE_TIME`, and every AWS-recorded case agrees with that
//! formatter, so [`Timestamp::parse`] follows it exactly:
//!
//! * `yyyy-MM-dd` with a 4-digit year (a longer year needs a leading `+`, a negative year a `-`),
//!   two-digit month and day, and a real calendar date (`2016-02-30` is rejected);
//! * `T` (case-insensitive) between date and time;
//! * `HH:mm`, then optionally `:ss`, then optionally `.` and 0 to 9 fraction digits; hours 00–23,
//!   minutes and seconds 00–59 (no leap second, no `24:00`);
//! * an offset is required: `Z` (case-insensitive), or `+HH`, `+HH:mm`, `+HH:mm:ss` (or `-`), at
//!   most 18 hours;
//! * nothing else before or after (no spaces, no `,` fraction, no `+0100`).
//!
//! Recorded against AWS (LocalStack snapshots in `/work/shared/conformance`): `…T04:47:35Z`,
//! `…T04:47:35.00Z`, `…T04:47:35.000000Z` and 9 fraction digits are accepted; a missing offset,
//! a space instead of `T`, month 13, hour 25 and `05-12-2016T…` are rejected. A timestamp that does
//! not parse never satisfies a Choice comparison (the comparison is false, not an error).
//!
//! Timestamps compare as instants: `2012-10-09T20:00:55+01:00` equals `2012-10-09T19:00:55Z`.
//!
//! Years outside chrono's range (±262 143) are rejected although Java would accept them.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// A parsed timestamp: an instant together with the UTC offset it was written with.
///
/// Equality and ordering compare the instant only.
///
/// ```
/// use workflow_asl::timestamp::Timestamp;
///
/// let a = Timestamp::parse("2024-01-01T01:00:00+01:00").unwrap();
/// let b = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
/// assert_eq!(a, b); // the same instant
/// assert_eq!(a.to_utc().to_rfc3339(), "2024-01-01T00:00:00+00:00");
/// assert_eq!(a.as_datetime().offset().local_minus_utc(), 3600);
/// assert!(Timestamp::parse("2024-01-01").is_none()); // a date alone is not a timestamp
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(DateTime<FixedOffset>);

impl Timestamp {
    /// Parses a timestamp exactly as Step Functions accepts it (see the module docs); `None` when
    /// the text is not one.
    ///
    /// ```
    /// use workflow_asl::timestamp::Timestamp;
    /// assert!(Timestamp::parse("2024-02-29T12:30:00.123Z").is_some());
    /// assert!(Timestamp::parse("2023-02-29T12:30:00Z").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Timestamp> {
        Parser::new(text).timestamp().map(Timestamp)
    }

    /// The timestamp with the offset it was written with.
    ///
    /// ```
    /// let t = workflow_asl::timestamp::Timestamp::parse("2024-01-01T00:00:00-05:00").unwrap();
    /// assert_eq!(t.as_datetime().offset().local_minus_utc(), -5 * 3600);
    /// ```
    pub fn as_datetime(&self) -> &DateTime<FixedOffset> {
        &self.0
    }

    /// The same instant in UTC.
    ///
    /// ```
    /// let t = workflow_asl::timestamp::Timestamp::parse("2024-01-01T00:00:00-05:00").unwrap();
    /// assert_eq!(t.to_utc().to_rfc3339(), "2024-01-01T05:00:00+00:00");
    /// ```
    pub fn to_utc(&self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.to_rfc3339())
    }
}

/// Whether `text` is a timestamp Step Functions accepts (the `IsTimestamp` test).
///
/// ```
/// use workflow_asl::timestamp::is_timestamp;
/// assert!(is_timestamp("2016-03-14T01:59:00Z"));
/// assert!(!is_timestamp("yesterday"));
/// ```
pub fn is_timestamp(text: &str) -> bool {
    Timestamp::parse(text).is_some()
}

/// Compares two timestamp strings as instants; `None` when either does not parse.
///
/// ```
/// use std::cmp::Ordering;
/// use workflow_asl::timestamp::compare;
///
/// assert_eq!(compare("2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z"), Some(Ordering::Less));
/// assert_eq!(compare("2024-01-01T00:00:00Z", "soon"), None);
/// ```
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(Timestamp::parse(a)?.cmp(&Timestamp::parse(b)?))
}

/// The largest offset Java's `ZoneOffset` allows: 18 hours.
const MAX_OFFSET_SECONDS: i32 = 18 * 3600;

/// A cursor over the ASCII bytes of the text.
struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Consumes `byte` (ASCII letters case-insensitively) if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        match self.peek() {
            Some(b) if b.eq_ignore_ascii_case(&byte) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Consumes up to `max` ASCII digits and returns how many and their value.
    fn digits(&mut self, max: usize) -> (usize, u64) {
        let mut count = 0;
        let mut value: u64 = 0;
        while count < max {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + u64::from(b - b'0');
                    self.pos += 1;
                    count += 1;
                }
                _ => break,
            }
        }
        (count, value)
    }

    /// Exactly two digits, at most `max`.
    fn two_digits(&mut self, max: u32) -> Option<u32> {
        let (count, value) = self.digits(2);
        let value = u32::try_from(value).ok()?;
        (count == 2 && value <= max).then_some(value)
    }

    /// `ISO_LOCAL_DATE`'s year: `appendValue(YEAR, 4, 10, SignStyle.EXCEEDS_PAD)`, parsed strictly.
    fn year(&mut self) -> Option<i32> {
        let sign = match self.peek() {
            Some(b'+') => Some(true),
            Some(b'-') => Some(false),
            _ => None,
        };
        if sign.is_some() {
            self.pos += 1;
        }
        let (count, value) = self.digits(10);
        if count < 4 {
            return None;
        }
        match sign {
            // '+' only when the year is wider than 4 digits; no sign only when it is not.
            Some(true) if count <= 4 => return None,
            None if count > 4 => return None,
            // Strict parsing rejects "minus zero".
            Some(false) if value == 0 => return None,
            _ => {}
        }
        let value = i32::try_from(value).ok()?;
        Some(if sign == Some(false) { -value } else { value })
    }

    fn date(&mut self) -> Option<NaiveDate> {
        let year = self.year()?;
        if !self.eat(b'-') {
            return None;
        }
        let month = self.two_digits(12)?;
        if !self.eat(b'-') {
            return None;
        }
        let day = self.two_digits(31)?;
        NaiveDate::from_ymd_opt(year, month, day)
    }

    /// `ISO_LOCAL_TIME`: `HH:mm[:ss[.fffffffff]]`.
    fn time(&mut self) -> Option<NaiveTime> {
        let hour = self.two_digits(23)?;
        if !self.eat(b':') {
            return None;
        }
        let minute = self.two_digits(59)?;
        let mut second = 0;
        let mut nano = 0;
        if self.eat(b':') {
            second = self.two_digits(59)?;
            if self.eat(b'.') {
                // appendFraction(NANO_OF_SECOND, 0, 9, true): zero to nine digits.
                let (count, value) = self.digits(9);
                let scale = 10u64.pow(u32::try_from(9 - count).ok()?);
                nano = u32::try_from(value * scale).ok()?;
            }
        }
        NaiveTime::from_hms_nano_opt(hour, minute, second, nano)
    }

    /// `appendOffsetId()` parsed leniently: `Z`, `±HH`, `±HH:mm` or `±HH:mm:ss`, within ±18:00.
    fn offset(&mut self) -> Option<FixedOffset> {
        if self.eat(b'Z') {
            return FixedOffset::east_opt(0);
        }
        let negative = match self.peek() {
            Some(b'+') => false,
            Some(b'-') => true,
            _ => return None,
        };
        self.pos += 1;
        let hours = self.two_digits(59)?;
        let mut minutes = 0;
        let mut seconds = 0;
        if self.peek() == Some(b':') {
            self.pos += 1;
            minutes = self.two_digits(59)?;
            if self.peek() == Some(b':') {
                self.pos += 1;
                seconds = self.two_digits(59)?;
            }
        }
        let total = i32::try_from(hours * 3600 + minutes * 60 + seconds).ok()?;
        if total > MAX_OFFSET_SECONDS {
            return None;
        }
        FixedOffset::east_opt(if negative { -total } else { total })
    }

    fn timestamp(&mut self) -> Option<DateTime<FixedOffset>> {
        let date = self.date()?;
        if !self.eat(b'T') {
            return None;
        }
        let time = self.time()?;
        let offset = self.offset()?;
        if self.pos != self.bytes.len() {
            return None;
        }
        NaiveDateTime::new(date, time)
            .checked_sub_offset(offset)
            .map(|utc| DateTime::from_naive_utc_and_offset(utc, offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_aws_accepts() {
        let cases = [
            // AWS-recorded (Wait TimestampPath / Timestamp, Choice operators).
            "2026-11-21T04:47:35Z",
            "2026-11-21T04:47:35.00Z",
            "2026-11-21T04:47:35.000000Z",
            "2016-03-05T21:29:29.243167252Z",
            "2016-03-14T01:59:00Z",
            "2012-10-09T19:00:55+01:00",
            // ISO_OFFSET_DATE_TIME.
            "2016-03-14T01:59Z",
            "2016-03-14t01:59:00z",
            "2016-03-14T01:59:00-05:00",
            "2016-03-14T01:59:00+05",
            "2016-03-14T01:59:00+05:30:15",
            "2016-03-14T01:59:00+18:00",
            "2016-03-14T01:59:00-00:00",
            "2016-03-14T01:59:00.Z",
            "2016-02-29T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
        ];
        for text in cases {
            assert!(is_timestamp(text), "{text} should parse");
        }
    }

    #[test]
    fn rejects_what_aws_rejects() {
        let cases = [
            // AWS-recorded rejections.
            "2026-11-21T04:47:35",
            "2026-11-21T04:47:35.000000",
            "2016-12-05 21:29:29Z",
            "2016-13-05T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "05-12-2016T21:29:29Z",
            "2023-02-24 12:15:56.832957",
            "2023-02-24",
            "",
            " ",
            "HelloWorld",
            // ISO_OFFSET_DATE_TIME rejections.
            "2016-03-14T01:59:00.1234567891Z",
            "2016-03-14T01:59:00,5Z",
            "2016-03-14T01:59:00+0530",
            "2016-03-14T01:59:00+5:30",
            "2016-03-14T01:59:00+18:01",
            "2016-03-14T01:59:00+19:00",
            "2016-03-14T01:59:00+05:60",
            "2016-03-14T01:59:00+05:3",
            "2016-03-14T01:59:60Z",
            "2016-03-14T24:00:00Z",
            "2016-03-14T1:59:00Z",
            "2016-3-14T01:59:00Z",
            "2016-03-4T01:59:00Z",
            "2015-02-29T00:00:00Z",
            "2016-04-31T00:00:00Z",
            "2016-00-10T00:00:00Z",
            "2016-01-00T00:00:00Z",
            "+2016-01-01T00:00:00Z",
            "10000-01-01T00:00:00Z",
            "-0000-01-01T00:00:00Z",
            "2016-03-14T01:59:00Z ",
            " 2016-03-14T01:59:00Z",
            "2016-03-14T01:59:00ZZ",
            "2016-03-14T01:59:00UTC",
            "2016-03-14T01Z",
            "2016-03-14T01:59:Z",
            "2016-03-14",
            "２０16-03-14T01:59:00Z",
        ];
        for text in cases {
            assert!(!is_timestamp(text), "{text:?} should not parse");
        }
    }

    #[test]
    fn compares_instants_across_offsets() {
        use Ordering::*;
        let cases = [
            ("2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", Equal),
            ("2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", Less),
            ("2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", Greater),
            ("2012-10-09T20:00:55+01:00", "2012-10-09T19:00:55Z", Equal),
            ("2012-10-09T20:00:55+01:00", "2012-10-09T19:30:55Z", Less),
            (
                "2025-01-01T07:00:00.000-05:00",
                "2025-01-01T12:00:00.000Z",
                Equal,
            ),
            (
                "2012-10-09T19:00:55.000000001Z",
                "2012-10-09T19:00:55Z",
                Greater,
            ),
            ("2012-10-09T19:00:55.5Z", "2012-10-09T19:00:55.500Z", Equal),
            ("2012-10-09T19:00Z", "2012-10-09T19:00:00Z", Equal),
            ("2012-10-10T00:30:00+05:30:15", "2012-10-09T19:00:00Z", Less),
        ];
        for (a, b, expected) in cases {
            assert_eq!(compare(a, b), Some(expected), "{a} vs {b}");
        }
        assert_eq!(compare("2012-10-09T19:00:55", "2012-10-09T19:00:55Z"), None);
        assert_eq!(compare("2012-10-09T19:00:55Z", "nope"), None);
    }

    #[test]
    fn keeps_the_written_offset_and_the_fraction() {
        let t = Timestamp::parse("2016-03-05T21:29:29.243167252+02:00").expect("valid");
        assert_eq!(t.as_datetime().offset().local_minus_utc(), 7200);
        assert_eq!(
            t.to_utc().to_rfc3339(),
            "2016-03-05T19:29:29.243167252+00:00"
        );
        assert_eq!(t.to_string(), "2016-03-05T21:29:29.243167252+02:00");
        let short = Timestamp::parse("2016-03-05T21:29:29.25Z").expect("valid");
        assert_eq!(short.to_utc().timestamp_subsec_nanos(), 250_000_000);
    }
}
