//! Instants, durations and the date syntax coordinators type.
//!
//! This module never reads the clock: every function that needs "now" takes it as an argument,
//! so the same inputs give the same answers on every node. Time zones come from the IANA
//! database bundled into the binary (jiff's `tzdb-bundle-always`), never from the host, so two
//! nodes built from the same `Cargo.lock` expand a weekly window identically.

use std::fmt;

use jiff::civil::{Date, DateTime, Time as CivilTime};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use serde::{Deserialize, Serialize};

/// The time zone used when an organisation does not name one: the region puente was built for.
pub const DEFAULT_TZ: &str = "America/Los_Angeles";

/// The longest duration accepted anywhere (ten years): longer values are typing mistakes.
pub const MAX_DURATION_SECS: i64 = 10 * 366 * 86_400;

/// An instant, in whole seconds since the Unix epoch (UTC). Seconds are enough for offers and
/// holds, and an integer keeps the stored form exact and cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Time(pub i64);

impl Time {
    /// This instant moved by `secs` seconds (saturating: never overflows).
    pub const fn plus(self, secs: i64) -> Time {
        Time(self.0.saturating_add(secs))
    }

    /// RFC 3339 text in UTC, for JSON and CSV.
    pub fn rfc3339(self) -> String {
        if let Some(text) = self.rfc3339_fast() {
            return text;
        }
        match jiff::Timestamp::from_second(self.0) {
            Ok(ts) => ts.to_string(),
            Err(_) => self.0.to_string(),
        }
    }

    /// [`Time::rfc3339`] from 1970 on without a time-zone library: the civil date from the
    /// day count (H. Hinnant's `civil_from_days`), `YYYY-MM-DDTHH:MM:SSZ`. An export writes a
    /// handful of times per offer, and jiff's printer took a tenth of the serialization.
    fn rfc3339_fast(self) -> Option<String> {
        // One past the last second jiff prints (9999-12-30T22:00:00Z); beyond it the number is
        // written as it is, as before.
        const END: i64 = 253_402_207_201;
        if !(0..END).contains(&self.0) {
            return None;
        }
        let days = self.0 / 86_400;
        let secs = self.0 % 86_400;
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let mut out = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, width: usize, mut v: i64| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, secs / 3_600);
        put(14, 2, secs % 3_600 / 60);
        put(17, 2, secs % 60);
        String::from_utf8(out.to_vec()).ok()
    }

    /// Local date and time in `tz`, minutes precision, for tables people read.
    pub fn local(self, tz: &TimeZone) -> String {
        match jiff::Timestamp::from_second(self.0) {
            Ok(ts) => ts
                .to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string(),
            Err(_) => self.0.to_string(),
        }
    }
}

/// Why a date, time or duration was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// A duration that is not `<number><unit>` with units m, h, d, w.
    #[error("`{0}` is not a duration; write it like 90m, 48h, 14d or 2w")]
    BadDuration(String),
    /// A date or date-time in none of the accepted forms.
    #[error(
        "`{0}` is not a date; write YYYY-MM-DD, YYYY-MM-DDTHH:MM, today, tomorrow, +Nd or +NdTHH:MM"
    )]
    BadDate(String),
    /// A time zone name the bundled database does not know.
    #[error("unknown time zone `{0}`; use an IANA name such as America/Los_Angeles")]
    UnknownZone(String),
}

/// Looks a zone up in the bundled IANA database.
pub fn zone(name: &str) -> Result<TimeZone, TimeError> {
    static DB: std::sync::OnceLock<TimeZoneDatabase> = std::sync::OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
        .get(name)
        .map_err(|_| TimeError::UnknownZone(name.chars().take(60).collect()))
}

/// Parses a duration: one or more `<number><unit>` groups, units `m` (minutes), `h`, `d`, `w`,
/// e.g. `48h`, `14d`, `1d12h`. Returns seconds.
pub fn parse_duration(text: &str) -> Result<i64, TimeError> {
    let t = text.trim();
    let bad = || TimeError::BadDuration(t.chars().take(40).collect());
    if t.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    for c in t.chars() {
        if let Some(d) = c.to_digit(10) {
            let n = num.unwrap_or(0);
            num = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(i64::from(d)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        let n = num.take().ok_or_else(bad)?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if num.is_some() || total <= 0 || total > MAX_DURATION_SECS {
        return Err(bad());
    }
    Ok(total)
}

/// Formats seconds as the largest whole unit that fits (`14d`, `48h`, `90m`), the inverse of
/// [`parse_duration`] for values it produced.
pub fn format_duration(secs: i64) -> String {
    if secs > 0 && secs % 86_400 == 0 {
        format!("{}d", secs / 86_400)
    } else if secs > 0 && secs % 3_600 == 0 {
        format!("{}h", secs / 3_600)
    } else {
        format!("{}m", secs.div_euclid(60).max(0))
    }
}

/// "confirmed 5 h ago" style freshness, relative to `now`.
pub fn ago(now: Time, then: Time) -> String {
    let d = now.0.saturating_sub(then.0);
    if d < 0 {
        return format!("in {}", coarse(-d));
    }
    if d < 60 {
        return "just now".to_string();
    }
    format!("{} ago", coarse(d))
}

fn coarse(secs: i64) -> String {
    if secs < 3_600 {
        format!("{} min", (secs / 60).max(1))
    } else if secs < 2 * 86_400 {
        format!("{} h", secs / 3_600)
    } else {
        format!("{} d", secs / 86_400)
    }
}

/// A parsed point in time as the user typed it: a whole day or a date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A calendar day: midnight at its start in the zone.
    Day(Date),
    /// A wall-clock date and time in the zone.
    At(DateTime),
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `today`, `tomorrow`, `+Nd` and `+NdTHH:MM`, the
/// relative forms counted in days from `today` (the caller's current local date).
pub fn parse_when(text: &str, today: Date) -> Result<When, TimeError> {
    let t = text.trim();
    let bad = || TimeError::BadDate(t.chars().take(40).collect());
    // The time part follows the last 'T' and has a ':' ("+3dT13:00"); "today" has a 't' too.
    let (day_part, time_part) = match t.rfind(['T', 't']) {
        Some(i) if t[i + 1..].contains(':') => (&t[..i], Some(&t[i + 1..])),
        _ => (t, None),
    };
    let day = match day_part.to_ascii_lowercase().as_str() {
        "today" => today,
        "tomorrow" => today.tomorrow().map_err(|_| bad())?,
        other => {
            if let Some(rest) = other.strip_prefix('+') {
                let n: i64 = rest
                    .strip_suffix('d')
                    .ok_or_else(bad)?
                    .parse()
                    .map_err(|_| bad())?;
                if !(0..=3660).contains(&n) {
                    return Err(bad());
                }
                today
                    .checked_add(jiff::Span::new().days(n))
                    .map_err(|_| bad())?
            } else {
                other.parse::<Date>().map_err(|_| bad())?
            }
        }
    };
    match time_part {
        None => Ok(When::Day(day)),
        Some(tm) => {
            let time: CivilTime = tm.parse().map_err(|_| bad())?;
            Ok(When::At(day.to_datetime(time)))
        }
    }
}

impl When {
    /// The instant this names in `tz` (a day means its first instant).
    pub fn instant(self, tz: &TimeZone) -> Result<Time, TimeError> {
        let dt = match self {
            When::Day(d) => d.to_datetime(CivilTime::midnight()),
            When::At(dt) => dt,
        };
        tz.to_timestamp(dt)
            .map(|ts| Time(ts.as_second()))
            .map_err(|_| TimeError::BadDate(dt.to_string()))
    }
}

/// The local calendar date of `now` in `tz`.
pub fn local_date(now: Time, tz: &TimeZone) -> Date {
    match jiff::Timestamp::from_second(now.0) {
        Ok(ts) => ts.to_zoned(tz.clone()).date(),
        Err(_) => Date::constant(1970, 1, 1),
    }
}

/// `start` moved by `weeks` calendar weeks in `tz` (so 13:00 stays 13:00 across a DST change).
pub fn add_weeks(start: Time, weeks: i64, tz: &TimeZone) -> Option<Time> {
    let ts = jiff::Timestamp::from_second(start.0).ok()?;
    let z = ts.to_zoned(tz.clone());
    let moved = z.checked_add(jiff::Span::new().weeks(weeks)).ok()?;
    Some(Time(moved.timestamp().as_second()))
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_jiffs_text() {
        let mut t: i64 = 0;
        let mut step: i64 = 1;
        while t < 253_402_207_201 {
            let jiff = jiff::Timestamp::from_second(t)
                .expect("in range")
                .to_string();
            assert_eq!(Time(t).rfc3339(), jiff, "{t}");
            t += step;
            step = step * 3 + 7;
            if step > 40_000_000 {
                step = 86_399;
            }
        }
        for t in [
            0,
            59,
            86_399,
            86_400,
            951_782_400,
            1_795_000_000,
            4_107_542_399,
            253_402_207_200,
        ] {
            let jiff = jiff::Timestamp::from_second(t)
                .expect("in range")
                .to_string();
            assert_eq!(Time(t).rfc3339(), jiff, "{t}");
        }
        assert_eq!(Time(-1).rfc3339(), "1969-12-31T23:59:59Z");
        assert_eq!(Time(253_402_207_201).rfc3339(), "253402207201");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("48h"), Ok(48 * 3600));
        assert_eq!(parse_duration("14d"), Ok(14 * 86_400));
        assert_eq!(parse_duration("1d12h"), Ok(36 * 3600));
        assert_eq!(parse_duration("2w"), Ok(14 * 86_400));
        for bad in ["", "h", "12", "-3d", "3x", "99999999999999999999d", "0h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(36 * 3600), "36h");
        assert_eq!(format_duration(48 * 3600), "2d");
        assert_eq!(format_duration(14 * 86_400), "14d");
        assert_eq!(format_duration(90 * 60), "90m");
    }

    #[test]
    fn dates_relative_and_absolute() {
        let today = Date::constant(2026, 11, 22);
        assert_eq!(parse_when("today", today), Ok(When::Day(today)));
        assert_eq!(
            parse_when("+3d", today),
            Ok(When::Day(Date::constant(2026, 11, 25)))
        );
        assert_eq!(
            parse_when("+3dT13:00", today),
            Ok(When::At(Date::constant(2026, 11, 25).at(13, 0, 0, 0)))
        );
        assert_eq!(
            parse_when("2026-12-01", today),
            Ok(When::Day(Date::constant(2026, 12, 1)))
        );
        assert!(parse_when("next thursday", today).is_err());
        assert!(parse_when("+d", today).is_err());
        assert!(parse_when("2026-13-01", today).is_err());
    }

    #[test]
    fn weekly_keeps_wall_clock_across_dst() {
        let tz = zone(DEFAULT_TZ).expect("bundled zone");
        // 2026-10-29 13:00 PDT; a week later DST has ended (2026-11-01) and it is 13:00 PST.
        let start = When::At(Date::constant(2026, 10, 29).at(13, 0, 0, 0))
            .instant(&tz)
            .expect("valid");
        let next = add_weeks(start, 1, &tz).expect("in range");
        assert_eq!(next.0 - start.0, 7 * 86_400 + 3_600);
        assert_eq!(next.local(&tz), "2026-11-05 13:00");
    }

    #[test]
    fn freshness_words() {
        let now = Time(1_000_000);
        assert_eq!(ago(now, Time(now.0 - 5 * 3600)), "5 h ago");
        assert_eq!(ago(now, Time(now.0 - 30)), "just now");
        assert_eq!(ago(now, Time(now.0 - 3 * 86_400)), "3 d ago");
    }
}
