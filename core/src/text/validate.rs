//! Validators: what a pattern's match must also be to count (a Luhn or IBAN check digit, a
//! calendar date, SSA and NANP numbering rules, a word that is no common word).

use super::words::NOT_NAMES;

/// A test that a match's text must pass to count.
pub(super) type Validator = fn(&str) -> bool;

/// The decimal digits of `s`, in order.
pub(super) fn digits_of(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// Whether `s` holds an ASCII digit: an identifier after its label, not a word.
pub(super) fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

/// The Luhn check over the digits `d`, the last one the check digit.
pub(super) fn luhn(d: &[u32]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                if x * 2 > 9 { x * 2 - 9 } else { x * 2 }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A number that a word announces as a phone: any national format of 7 to 15 digits. NANP's
/// area and exchange rules are not applied: the word is the evidence, and a number that
/// breaks them is still an identifier.
pub(super) fn valid_context_phone(s: &str) -> bool {
    let d = digits_of(s);
    // A date after the word (`call on 03/04/2021`) is not a phone; a phone has at most one
    // slash (`01/32286610`).
    let date = s.matches('/').count() > 1 || valid_mdy(s) || valid_ymd(s);
    (7..=15).contains(&d.len()) && d.iter().any(|&x| x != d.first().copied().unwrap_or(0)) && !date
}

/// A street that words announce, unless its first word names a place inside a building or a
/// count (`moved to Ward 7`, `lives on Floor 3`).
pub(super) fn valid_cued_street(s: &str) -> bool {
    const NOT_STREETS: [&str; 14] = [
        "ROOM", "WARD", "BED", "FLOOR", "LEVEL", "BUILDING", "BLDG", "UNIT", "SUITE", "STAGE",
        "GRADE", "WEEK", "DAY", "BAY",
    ];
    let first = s.split([' ', '\t']).next().unwrap_or("").to_uppercase();
    !NOT_STREETS.contains(&first.trim_end_matches(['.', ',']))
}

/// An area code, a slash and the number: 8 to 15 digits.
pub(super) fn valid_slash_phone(s: &str) -> bool {
    (8..=15).contains(&digits_of(s).len())
}

/// As [`valid_context_phone`], but not a span of years (`2015-2019 work history`).
pub(super) fn valid_labelled_phone(s: &str) -> bool {
    let years = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .all(|g| g.len() == 4 && (g.starts_with("19") || g.starts_with("20")));
    valid_context_phone(s) && !years
}

/// A card number: 12 to 19 digits that pass Luhn, 12 only for Maestro.
pub(super) fn valid_card(s: &str) -> bool {
    let d = digits_of(s);
    // Maestro (issuer prefixes 50 and 56 to 69) is the one issuer of 12-digit numbers.
    let maestro = d.first().is_some_and(|&x| x == 5 || x == 6);
    (d.len() != 12 || maestro) && card_digits(&d)
}

/// A card number that words announce: any issuer prefix.
pub(super) fn valid_context_card(s: &str) -> bool {
    card_digits(&digits_of(s))
}

/// 12 to 19 digits that pass Luhn, not all the same digit.
fn card_digits(d: &[u32]) -> bool {
    (12..=19).contains(&d.len())
        && luhn(d)
        && d.iter().any(|&x| x != d.first().copied().unwrap_or(0))
}

/// An IBAN: 15 to 34 letters and digits whose ISO 7064 mod-97 check gives 1.
pub(super) fn valid_iban(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem: u64 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c.to_digit(36) {
            Some(v) => v as u64,
            None => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// A dotted-quad IPv4 address whose numbers have no leading zero.
pub(super) fn valid_ipv4(s: &str) -> bool {
    s.parse::<std::net::Ipv4Addr>().is_ok()
        && s.split('.').all(|o| o.len() == 1 || !o.starts_with('0'))
}

/// An IPv6 address (a `%zone` after it allowed) with two colons or more and a hex digit, so
/// `::` alone is not one.
pub(super) fn valid_ipv6(s: &str) -> bool {
    let core = s.split('%').next().unwrap_or("");
    core.matches(':').count() >= 2
        && core.parse::<std::net::Ipv6Addr>().is_ok()
        && core.chars().any(|c| c.is_ascii_hexdigit())
}

/// SSA rules: area not 000 or 666, group not 00, serial not 0000. Area 9xx is never issued
/// as an SSN but is the ITIN range, also an identifier, so it is kept (lower confidence is
/// not modelled per value here).
pub(super) fn valid_ssn_loose(s: &str) -> bool {
    let d = digits_of(s);
    if d.len() != 9 {
        return false;
    }
    let area = d.iter().take(3).fold(0, |a, x| a * 10 + x);
    let group = d.iter().skip(3).take(2).fold(0, |a, x| a * 10 + x);
    let serial = d.iter().skip(5).fold(0, |a, x| a * 10 + x);
    area != 0
        && area != 666
        && group != 0
        && serial != 0
        && !d.iter().all(|&x| x == d.first().copied().unwrap_or(10))
}

/// A phone number without its extension (`x12`, `ext. 12`), whose digits are not the number's.
fn without_extension(s: &str) -> &str {
    s.split(['x', 'X', 'e', 'E']).next().unwrap_or(s)
}

/// NANP: area code and exchange start with 2-9.
pub(super) fn valid_nanp(s: &str) -> bool {
    let mut d = digits_of(without_extension(s));
    if d.len() == 11 && d.first() == Some(&1) {
        d.remove(0);
    }
    d.len() == 10 && d.first().is_some_and(|&x| x >= 2) && d.get(3).is_some_and(|&x| x >= 2)
}

/// A number as other countries write it: 8 to 15 digits (17 after a `00` exit code) and a
/// space, dash, dot, bracket or plus among them.
pub(super) fn valid_intl_phone(s: &str) -> bool {
    let d = digits_of(without_extension(s));
    // E.164 numbers have at most 15 digits; `00` dials out in most countries (`0049 30 ...`).
    let max = if d.starts_with(&[0, 0]) { 17 } else { 15 };
    (8..=max).contains(&d.len()) && s.chars().any(|c| matches!(c, ' ' | '-' | '.' | '(' | '+'))
}

/// Digits in three or more groups, 8 to 13 in all, that are not a date nor the SSN's 3-2-4
/// shape. The NANP's 3-3-4 shape counts when one separator (`-` or `.`) groups it all, even
/// against NANP's area and exchange rules: that is how a phone is written, and made-up or test
/// numbers (`159-278-5620`) identify as much as real ones.
pub(super) fn valid_grouped_phone(s: &str) -> bool {
    let number = without_extension(s).trim_end();
    let d = digits_of(number);
    let groups: Vec<usize> = number
        .split([' ', '.', '-', '(', ')', '+'])
        .filter(|g| !g.is_empty())
        .map(str::len)
        .collect();
    let seps: Vec<char> = number
        .chars()
        .filter(|c| matches!(c, ' ' | '.' | '-'))
        .collect();
    let one_sep = seps
        .first()
        .is_some_and(|&c| c != ' ' && seps.iter().all(|&x| x == c));
    let nanp = matches!(groups.as_slice(), [3, 3, 4] | [1, 3, 3, 4]);
    let ssn = matches!(groups.as_slice(), [3, 2, 4]);
    (8..=13).contains(&d.len())
        && groups.len() >= 3
        && !ssn
        && (!nanp || one_sep)
        && !valid_ymd(number)
        && !valid_mdy(number)
}

/// A calendar date in ISO form (`2021-03-04`, a time after it not checked).
pub(super) fn valid_ymd(s: &str) -> bool {
    crate::util::calendar::parse_date(s.get(..10).unwrap_or(s)).is_some()
}

/// Three numbers of which the first two are a month and a day, in either order.
/// A date written with a month name: a day (1-31) or a year must come with the month, a day
/// within 1-31, a four-digit year within 1800-2199.
pub(super) fn valid_intl_date(s: &str) -> bool {
    let groups: Vec<&str> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let day_ok = |g: &str| g.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
    let year_ok =
        |g: &str| g.len() != 4 || g.parse::<u32>().is_ok_and(|y| (1800..2200).contains(&y));
    let starts_with_day = s.starts_with(|c: char| c.is_ascii_digit());
    match groups.as_slice() {
        [] => false,
        [one] if starts_with_day => day_ok(one),
        [one] => year_ok(one),
        [day, year] => day_ok(day) && year_ok(year),
        _ => false,
    }
}

pub(super) fn valid_mdy(s: &str) -> bool {
    let parts: Vec<u32> = s
        .split(['/', '-', '.'])
        .filter_map(|p| p.parse().ok())
        .collect();
    match parts.as_slice() {
        [a, b, _] => {
            ((1..=12).contains(a) && (1..=31).contains(b))
                || ((1..=31).contains(a) && (1..=12).contains(b))
        }
        _ => false,
    }
}

/// A month and a day (`03/04`).
pub(super) fn valid_md(s: &str) -> bool {
    let parts: Vec<u32> = s.split('/').filter_map(|p| p.parse().ok()).collect();
    matches!(parts.as_slice(), [m, d] if (1..=12).contains(m) && (1..=31).contains(d))
}

/// A vehicle identification number with letters and digits both, whose ninth character is
/// the North American check digit over its 17.
pub(super) fn valid_vin(s: &str) -> bool {
    const W: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let val = |c: char| -> Option<u32> {
        Some(match c {
            '0'..='9' => c.to_digit(10)?,
            'A' | 'J' => 1,
            'B' | 'K' | 'S' => 2,
            'C' | 'L' | 'T' => 3,
            'D' | 'M' | 'U' => 4,
            'E' | 'N' | 'V' => 5,
            'F' | 'W' => 6,
            'G' | 'P' | 'X' => 7,
            'H' | 'Y' => 8,
            'R' | 'Z' => 9,
            _ => return None,
        })
    };
    if !s.chars().any(|c| c.is_ascii_digit()) || !s.chars().any(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    let mut sum = 0;
    for (c, w) in s.chars().zip(W) {
        match val(c) {
            Some(v) => sum += v * w,
            None => return false,
        }
    }
    let check = sum % 11;
    let ninth = s.chars().nth(8);
    ninth
        == Some(if check == 10 {
            'X'
        } else {
            char::from_digit(check, 10).unwrap_or('?')
        })
}

/// Whether the first word of a name span is no word of [`NOT_NAMES`] (`Patient Denies`,
/// `evaluated by Neurology`).
pub(super) fn not_common_word(s: &str) -> bool {
    let first = s.split_whitespace().next().unwrap_or("");
    !NOT_NAMES.contains(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        assert!(luhn(&digits_of("4111 1111 1111 1111")));
        assert!(!luhn(&digits_of("4111 1111 1111 1112")));
        // 12 digits: Maestro only; all one digit is no number.
        assert!(valid_card("501864667909") && !valid_card("401864667909"));
        assert!(!valid_card("0000 0000 0000 0000"));
        assert!(valid_iban("GB82 WEST 1234 5698 7654 32"));
        assert!(!valid_iban("GB83 WEST 1234 5698 7654 32"));
        assert!(valid_vin("1HGCM82633A004352"));
        assert!(!valid_vin("1HGCM82634A004352"));
    }

    #[test]
    fn numbering_and_calendar_rules() {
        assert!(valid_ssn_loose("123-45-6789") && valid_ssn_loose("900-70-1234"));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "123-00-4567",
            "123-45-0000",
            "111-11-1111",
        ] {
            assert!(!valid_ssn_loose(bad), "{bad}");
        }
        assert!(valid_nanp("(316) 555-0123") && valid_nanp("1-316-555-0123 x12"));
        assert!(!valid_nanp("(116) 555-0123") && !valid_nanp("316 155 0123"));
        assert!(valid_ipv4("192.168.1.20") && !valid_ipv4("1.2.3.999") && !valid_ipv4("1.02.3.4"));
        assert!(valid_ipv6("fe80::1ff:fe23:4567:890a") && !valid_ipv6("::"));
        assert!(valid_ymd("2021-03-04T10:00") && !valid_ymd("2021-02-30"));
        assert!(valid_mdy("13/04/2021") && !valid_mdy("13/13/2021"));
        assert!(valid_md("3/31") && !valid_md("150/95"));
        // A date or a span of years after a phone word is not a phone.
        assert!(valid_context_phone("0551009914") && !valid_context_phone("03/04/2021"));
        assert!(!valid_labelled_phone("2015-2019"));
        assert!(!valid_grouped_phone("123 45 6789") && valid_grouped_phone("06 12 34 56 78"));
    }

    #[test]
    fn words_that_are_no_name_or_street() {
        assert!(!not_common_word("Neurology today") && not_common_word("Shovda"));
        assert!(!valid_cued_street("Ward 7") && valid_cued_street("Kojetická 7"));
    }
}
