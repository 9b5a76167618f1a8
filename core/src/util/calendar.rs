//! The proleptic Gregorian calendar, the date forms clinical systems write, and the clock.
//!
//! Dates are parsed here once for every user: date shifts and year generalization (`treat`),
//! date validation in free text (`text`), Arrow date columns (`io`) and audit times (`audit`).

/// A calendar date parsed from one of the formats clinicians' systems write, remembering the
/// format so a shifted date is written back the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParsedDate<'a> {
    pub year: i64,
    /// 1-12.
    pub month: u32,
    /// 1-31, valid for the month.
    pub day: u32,
    pub form: DateForm,
    /// Whatever followed the date (a time, `T10:00:00Z`), kept verbatim.
    pub rest: &'a str,
}

/// How a parsed date was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateForm {
    /// `2021-03-04`
    Iso,
    /// `20210304`
    Compact,
    /// `03/04/2021` (US month first)
    Us,
}

/// The number an all-ASCII-digit text spells; `None` for empty text or any other character.
pub(crate) fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `YYYY-MM-DD[rest]`, `YYYYMMDD` or `MM/DD/YYYY[rest]`, where rest starts with `T`
/// or a space. Returns `None` for anything else or an impossible date.
pub(crate) fn parse_date(s: &str) -> Option<ParsedDate<'_>> {
    let b = s.as_bytes();
    let (year, month, day, form, rest) =
        if b.len() >= 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') {
            (
                digits(s.get(0..4)?)?,
                digits(s.get(5..7)?)?,
                digits(s.get(8..10)?)?,
                DateForm::Iso,
                s.get(10..)?,
            )
        } else if b.len() >= 10 && b.get(2) == Some(&b'/') && b.get(5) == Some(&b'/') {
            (
                digits(s.get(6..10)?)?,
                digits(s.get(0..2)?)?,
                digits(s.get(3..5)?)?,
                DateForm::Us,
                s.get(10..)?,
            )
        } else if b.len() == 8 {
            (
                digits(s.get(0..4)?)?,
                digits(s.get(4..6)?)?,
                digits(s.get(6..8)?)?,
                DateForm::Compact,
                "",
            )
        } else {
            return None;
        };
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
        return None;
    }
    let year = i64::from(year);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(ParsedDate {
        year,
        month,
        day,
        form,
        rest,
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// RFC 3339 UTC text of a Unix time in seconds.
// WebAssembly has no system clock here, so only tests use it there.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn rfc3339(unix_secs: i64) -> String {
    let (y, m, d) = civil_from_days(unix_secs.div_euclid(86_400));
    let s = unix_secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The current UTC time as RFC 3339 (`2026-11-25T15:33:47Z`); empty where there is no
/// system clock (WebAssembly: the binding passes its own clock to the view).
pub(crate) fn now_rfc3339() -> String {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        rfc3339(i64::try_from(secs).unwrap_or(0))
    }
    #[cfg(target_arch = "wasm32")]
    {
        String::new()
    }
}

/// The current year, where there is a system clock.
pub(crate) fn current_year() -> Option<i64> {
    now_rfc3339().get(..4)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
    }

    #[test]
    fn rfc3339_formats() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_084_827), "2025-11-25T15:33:47Z");
    }

    #[test]
    fn date_forms() {
        let d = parse_date("03/04/2021 10:00").unwrap();
        assert_eq!(
            (d.year, d.month, d.day, d.form, d.rest),
            (2021, 3, 4, DateForm::Us, " 10:00")
        );
        assert_eq!(
            parse_date("20210304").map(|d| d.form),
            Some(DateForm::Compact)
        );
        assert!(parse_date("2021-02-29").is_none(), "not a leap year");
        assert!(parse_date("2020-02-29").is_some());
        assert!(parse_date("2021-03-04x").is_none());
    }
}
