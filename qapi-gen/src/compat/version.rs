//! The release numbers of `Since:` sections: `X.Y`, compared as numbers.

use std::fmt;
use std::str::FromStr;

/// A release version as `Since:` sections write it: `10.2`, `2.12.0`.
///
/// Versions compare numerically, trailing zeros aside (`10.2` equals
/// `10.2.0`, and is older than `10.10`).
///
/// ```
/// use qapi_gen::compat::Version;
/// let v: Version = "10.2".parse().unwrap();
/// assert!(v < "10.10".parse().unwrap());
/// assert_eq!(v, "10.2.0".parse().unwrap());
/// assert_eq!(Version::leading("10.1 (x-foo)").unwrap().to_string(), "10.1");
/// ```
#[derive(Debug, Clone)]
pub struct Version {
    parts: Vec<u32>,
}

impl Version {
    /// The version a text starts with (`10.1`, `v2.12`, `2.12.0;`), if it
    /// starts with one.
    pub fn leading(text: &str) -> Option<Version> {
        let t = text.trim_start();
        let t = t.strip_prefix('v').unwrap_or(t);
        let len = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        t[..len].trim_end_matches('.').parse().ok()
    }

    fn significant(&self) -> &[u32] {
        let n = self.parts.iter().rposition(|&p| p != 0).map_or(0, |i| i + 1);
        &self.parts[..n]
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Result<Vec<u32>, _> = s.split('.').map(str::parse::<u32>).collect();
        match parts {
            Ok(parts) if !parts.is_empty() && parts.len() <= 4 && !s.contains('+') => Ok(Version { parts }),
            _ => Err(format!("'{s}' is not a version like 10.2")),
        }
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.significant().cmp(other.significant())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for p in &self.parts {
            if !first {
                f.write_str(".")?;
            }
            first = false;
            write!(f, "{p}")?;
        }
        Ok(())
    }
}
