//! The three modes a decorated function runs in.

use std::fmt;
use std::str::FromStr;

use crate::model::error::Error;

/// How a decorated function behaves on its next call. Persisted per function.
///
/// ```
/// use cacheow::Mode;
///
/// assert_eq!("mock".parse::<Mode>().unwrap(), Mode::Mock);
/// assert_eq!(Mode::Cache.to_string(), "cache");
/// assert!("replay".parse::<Mode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Call the function and record every outcome; never read recordings.
    #[default]
    Default,
    /// Replay the newest outcome recorded for the same arguments; on a miss,
    /// call the function and record its outcome.
    Cache,
    /// Never call the function: replay a recorded outcome, weighted by the
    /// mock configuration, otherwise at random.
    Mock,
}

impl Mode {
    /// The mode's name: `default`, `cache` or `mock`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::Cache => "cache",
            Mode::Mock => "mock",
        }
    }

    pub(crate) const fn to_u8(self) -> u8 {
        self as u8
    }

    pub(crate) const fn from_u8(value: u8) -> Mode {
        match value {
            1 => Mode::Cache,
            2 => Mode::Mock,
            _ => Mode::Default,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = Error;

    fn from_str(text: &str) -> Result<Mode, Error> {
        match text.trim() {
            "default" => Ok(Mode::Default),
            "cache" => Ok(Mode::Cache),
            "mock" => Ok(Mode::Mock),
            other => Err(Error::InvalidMode(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_u8_and_text() {
        for mode in [Mode::Default, Mode::Cache, Mode::Mock] {
            assert_eq!(Mode::from_u8(mode.to_u8()), mode);
            assert_eq!(mode.as_str().parse::<Mode>().ok(), Some(mode));
        }
    }

    #[test]
    fn unknown_mode_names_the_choices() {
        let error = "replay".parse::<Mode>().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("`replay`") && error.contains("`mock`"), "{error}");
    }
}
