//! Identifiers used in the shared document.
//!
//! Every identifier is random or derived from a key by the caller: this module never reads a
//! random source or a clock. Identifiers are printed as lowercase base32 (the DNSSEC "extended
//! hex" alphabet, `0-9a-v`) so that they survive copy and paste, e-mail and phone dictation.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_DNSSEC;
use serde::{Deserialize, Serialize};

/// Why an identifier could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The text is not base32 of the right length.
    #[error("{what} id `{text}` is not valid: expected {len} characters of 0-9 and a-v")]
    Malformed {
        /// Which kind of identifier was expected.
        what: &'static str,
        /// The offending text (identifiers are not secret).
        text: String,
        /// The expected length in characters.
        len: usize,
    },
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $bytes:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; $bytes]);

        impl $name {
            /// Number of raw bytes in this identifier.
            pub const BYTES: usize = $bytes;

            /// Wraps raw bytes (random, or derived from a key by the caller).
            pub const fn from_bytes(bytes: [u8; $bytes]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $bytes] {
                &self.0
            }

            /// Number of characters in the printed form.
            pub fn text_len() -> usize {
                BASE32_DNSSEC.encode_len($bytes)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&BASE32_DNSSEC.encode(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let err = || IdError::Malformed {
                    what: $what,
                    text: s.chars().take(64).collect(),
                    len: Self::text_len(),
                };
                if s.len() != Self::text_len() {
                    return Err(err());
                }
                let lower = s.to_ascii_lowercase();
                let bytes = BASE32_DNSSEC.decode(lower.as_bytes()).map_err(|_| err())?;
                let arr: [u8; $bytes] = bytes.try_into().map_err(|_| err())?;
                // Reject non-canonical encodings so that one id has exactly one spelling.
                if BASE32_DNSSEC.encode(&arr) != lower {
                    return Err(err());
                }
                Ok(Self(arr))
            }
        }

        // Text in human-readable formats (JSON: what scripts read), the raw bytes in compact
        // ones (the view cached in the local snapshot), where text would cost 60% more and a
        // parse per id.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.collect_str(self)
                } else {
                    self.0.serialize(s)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let text = String::deserialize(d)?;
                    text.parse().map_err(serde::de::Error::custom)
                } else {
                    <[u8; $bytes]>::deserialize(d).map(Self)
                }
            }
        }
    };
}

id_type!(
    /// An organisation: derived by the node from the organisation's founding public key
    /// (the first 10 bytes of a domain-separated SHA-256), so it cannot be chosen freely.
    OrgId,
    10,
    "organisation"
);
id_type!(
    /// An offer: 10 random bytes chosen by the owning organisation's device.
    OfferId,
    10,
    "offer"
);
id_type!(
    /// A window of an offer: 10 random bytes chosen by the owner's device.
    WindowId,
    10,
    "window"
);
id_type!(
    /// A hold placed by a partner on a window: 10 random bytes chosen by the requester's device.
    HoldId,
    10,
    "hold"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_bad_text() {
        let id = OfferId::from_bytes([7; 10]);
        let text = id.to_string();
        assert_eq!(text.len(), 16);
        assert_eq!(text.parse::<OfferId>(), Ok(id));
        assert_eq!(text.to_ascii_uppercase().parse::<OfferId>(), Ok(id));
        assert!("short".parse::<OfferId>().is_err());
        assert!("wwwwwwwwwwwwwwww".parse::<OfferId>().is_err());
    }
}
