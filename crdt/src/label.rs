//! The check every piece of free text passes before it is shared (DOMAIN.md rule 7).
//!
//! Free text is limited to a short label. Anything that looks like a phone number, an e-mail
//! address, an A-number (alien registration number) or a street address is refused with a
//! message that says why, because the shared document describes offers, never people or homes.
//! The check errs on the side of refusing: a coordinator can always reword a label, but a
//! shared address cannot be taken back.

use std::sync::OnceLock;

use regex::Regex;

/// Longest label accepted, in characters: enough for "quiet room, bus line nearby, no stairs",
/// short enough that nobody writes a case history into it.
pub const MAX_LABEL_CHARS: usize = 80;

/// Why a label was refused. Messages never echo the refused text back, so an error printed to
/// a terminal or a log does not spread what the check was protecting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// Longer than [`MAX_LABEL_CHARS`].
    #[error("label is {0} characters; keep it to {MAX_LABEL_CHARS} or fewer")]
    TooLong(usize),
    /// Contains control characters or line breaks.
    #[error("label contains a line break or control character; use a single plain line")]
    ControlCharacter,
    /// Looks like a phone number.
    #[error(
        "label looks like it contains a phone number; partners reach offers through your intake route, so leave contact details out"
    )]
    PhoneNumber,
    /// Looks like an e-mail address.
    #[error(
        "label looks like it contains an e-mail address; partners reach offers through your intake route, so leave contact details out"
    )]
    Email,
    /// Looks like an A-number.
    #[error(
        "label looks like it contains an A-number; never put case or immigration identifiers in shared offers"
    )]
    ANumber,
    /// Looks like a street address.
    #[error(
        "label looks like it contains a street address; share only the county and a zone label, never where a home or shelter is"
    )]
    StreetAddress,
}

struct Patterns {
    email: Regex,
    a_number: Regex,
    street: Regex,
    po_box: Regex,
    digit_run: Regex,
    iso_dates: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        // "maria@example.org", and the ways people write one to get past a filter, in English
        // and Spanish: "maria (at) example (dot) org", "maria arroba gmail punto com".
        email: Regex::new(
            r"(?ix)
            [\p{L}\p{N}._%+\-]+
            ( \s*(@|[(\[]\s*(at|arroba)\s*[)\]])\s* | \s+(at|arroba)\s+ )
            [\p{L}\p{N}\-]+
            ( \. | \s*[(\[]\s*(dot|punto)\s*[)\]]\s* | \s+(dot|punto)\s+ )
            [a-z]{2,}\b",
        )
        .expect("the e-mail pattern is a valid regex"),
        // A-numbers: "A" then 8 or 9 digits, optionally with '#', '-', spaces or dashes inside.
        a_number: Regex::new(r"(?i)\bA\s*[#\-:.]?\s*\d{3}[\s\-]?\d{3}[\s\-]?\d{2,3}\b")
            .expect("the A-number pattern is a valid regex"),
        // A house number followed within a few words by a street suffix ("1234 Elm St",
        // "1234 N. 5th Avenue"); a house number before a Spanish street word ("1234 Calle
        // Olivo"); a Spanish street word followed within a few words by a number, with or
        // without a number sign ("Calle Ocho 123", "Av. Juárez #45", "Calle Olivo núm. 12").
        street: Regex::new(
            r"(?ix)
            (\b\d{1,6}[a-z]?\s+([\p{L}\p{N}.'\-]+\s+){0,4}
               (st|street|ave|avenue|av|blvd|boulevard|rd|road|dr|drive|ln|lane|way|ct|court|pl|place|
                ter|terrace|cir|circle|hwy|highway|pkwy|parkway|sq|square|trl|trail|loop|row|alley|
                apt|unit|suite|ste)\b\.?)
            |(\b\d{1,6}[a-z]?\s+(calle|avenida|avda|av|camino|paseo|callej[oó]n|carretera|calzada|
                privada|cerrada|prolongaci[oó]n|bulevar|boulevard|carrera|diagonal|transversal)\b)
            |((\b(calle|avenida|avda|av|camino|paseo|callej[oó]n|carretera|calzada|privada|cerrada|
                 prolongaci[oó]n|bulevar|carrera|diagonal|transversal)\b\.?|\bc/)
               \s*([\p{L}\p{N}.'\-]+\s+){0,4}
               (\#\s*|n[oº°]\.?\s*|n[uú]m\.?\s*|n[uú]mero\s+)?\d{1,6}\b)",
        )
        .expect("the street pattern is a valid regex"),
        po_box: Regex::new(r"(?i)\bp\.?\s*o\.?\s*box\s*\d+").expect("the PO box pattern is a valid regex"),
        digit_run: Regex::new(r"[+(]?\d[\d \t().\-]*\d").expect("the digit-run pattern is a valid regex"),
        iso_dates: Regex::new(r"^\d{4}-\d{2}-\d{2}([ \-]+\d{4}-\d{2}-\d{2})*$")
            .expect("the date pattern is a valid regex"),
    })
}

/// Checks a free-text label. Empty labels are allowed (the label is optional).
pub fn check_label(text: &str) -> Result<(), LabelError> {
    let n = text.chars().count();
    if n > MAX_LABEL_CHARS {
        return Err(LabelError::TooLong(n));
    }
    if text.chars().any(char::is_control) {
        return Err(LabelError::ControlCharacter);
    }
    let p = patterns();
    if p.email.is_match(text) {
        return Err(LabelError::Email);
    }
    if p.a_number.is_match(text) {
        return Err(LabelError::ANumber);
    }
    if looks_like_phone(text) {
        return Err(LabelError::PhoneNumber);
    }
    if p.street.is_match(text) || p.po_box.is_match(text) {
        return Err(LabelError::StreetAddress);
    }
    Ok(())
}

/// A run of 7 or more digits joined only by phone punctuation (spaces, dots, dashes,
/// parentheses, a leading '+') looks like a phone number. An ISO date ("2026-12-01") does not,
/// and ':' or '/' break a run, so times and ranges like "13:00-16:00" pass.
fn looks_like_phone(text: &str) -> bool {
    let p = patterns();
    p.digit_run.find_iter(text).any(|m| {
        let digits = m.as_str().bytes().filter(u8::is_ascii_digit).count();
        digits >= 7 && !p.iso_dates.is_match(m.as_str())
    })
}

/// Checks a handle or zone label: lowercase letters, digits and dashes, 2 to 32 characters.
/// Handles are pseudonyms chosen by the owning organisation ("host-7f3k"); this shape leaves
/// no room for a name with spaces, an e-mail address or a phone number with punctuation.
pub fn check_slug(what: &'static str, text: &str) -> Result<(), SlugError> {
    let ok_len = (2..=32).contains(&text.len());
    let ok_chars = text
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok_len || !ok_chars || text.starts_with('-') || text.ends_with('-') {
        return Err(SlugError { what });
    }
    if text.bytes().filter(u8::is_ascii_digit).count() >= 7 {
        return Err(SlugError { what });
    }
    Ok(())
}

/// A handle or zone that is not a short lowercase slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} must be 2-32 characters of a-z, 0-9 and '-', not starting or ending with '-', with fewer than 7 digits (for example host-7f3k)"
)]
pub struct SlugError {
    /// Which field was checked.
    pub what: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_labels_pass() {
        for ok in [
            "",
            "quiet room, bus line nearby",
            "Tue/Thu clinic 13:00-16:00, walk-ins",
            "opens 2026-12-01, 2 beds",
            "habitación tranquila, cerca del autobús",
            "room for 2 adults, 1 child",
            "Mam and K'iche' by phone",
            "3 beds on ground floor",
            "3 camas en planta baja",
            "clínica martes y jueves 13:00-16:00",
            "cuarto para 2 adultos y 1 niño, calle tranquila",
            "acompañamiento a la corte, en español",
            "meet at the clinic door",
            "se habla mam y k'iche' por teléfono",
        ] {
            assert_eq!(check_label(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn phone_numbers_refused() {
        for bad in [
            "call 916-555-0199",
            "(916) 555 0199",
            "+1 916 555 0199",
            "tel 9165550199",
        ] {
            assert_eq!(check_label(bad), Err(LabelError::PhoneNumber), "{bad}");
        }
    }

    #[test]
    fn emails_refused() {
        for bad in [
            "write maria@example.org",
            "host at gmail (dot) com x@y.co",
            "a.b (at) riseup.net",
            "maria at gmail dot com",
            "maria arroba gmail punto com",
            "escribir a maria (arroba) gmail (punto) com",
            "maría.lópez@correo.mx",
            "maria [arroba] riseup [punto] net",
        ] {
            assert_eq!(check_label(bad), Err(LabelError::Email), "{bad}");
        }
    }

    #[test]
    fn a_numbers_refused() {
        for bad in ["case A123456789", "A# 123-456-789", "a12345678 pending"] {
            assert_eq!(check_label(bad), Err(LabelError::ANumber), "{bad}");
        }
    }

    #[test]
    fn street_addresses_refused() {
        for bad in [
            "1234 Elm St",
            "near 55 N. Fifth Avenue",
            "500 Capitol Mall Blvd.",
            "Calle Ocho 123",
            "PO Box 1234",
            "12 Oak Lane, back unit",
            "1234 Calle Olivo",
            "Calle Olivo 1234",
            "Av. Juárez #45",
            "avenida Reforma núm. 120",
            "Calle 5 de Mayo número 12",
            "Camino Real 300, casa azul",
            "C/ Mayor 5",
            "200 Avenida Central",
            "3 bedrooms at 77 Peña Street",
        ] {
            assert_eq!(check_label(bad), Err(LabelError::StreetAddress), "{bad}");
        }
    }

    #[test]
    fn long_and_control_refused() {
        assert_eq!(check_label(&"x".repeat(81)), Err(LabelError::TooLong(81)));
        assert_eq!(check_label("two\nlines"), Err(LabelError::ControlCharacter));
    }

    #[test]
    fn errors_do_not_echo_the_text() {
        let msg = check_label("call 916-555-0199").unwrap_err().to_string();
        assert!(!msg.contains("555"));
    }

    #[test]
    fn slugs() {
        assert!(check_slug("handle", "host-7f3k").is_ok());
        for bad in ["Host", "a", "host 7", "-x", "x-", "maria@x", "916-555-0199"] {
            assert!(check_slug("handle", bad).is_err(), "{bad}");
        }
    }
}
