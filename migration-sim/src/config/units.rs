//! Sizes and rates in scenario files: `"8 GiB"`, `"10 Gbit/s"`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

use crate::units::{GIB, KIB, MIB, TIB};

/// A size in bytes; in TOML an integer (bytes) or a string with a unit:
/// `"8 GiB"`, `"512M"` (binary, like QEMU's `-m`), `"1.5 KiB"`, `"10 GB"`
/// (decimal). Negative and fractional-byte sizes are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(transparent)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// The size in bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}

fn size_unit(unit: &str) -> Option<f64> {
    let u = unit.trim();
    Some(match u {
        "" | "B" | "b" => 1.0,
        "K" | "k" | "KiB" | "kiB" | "Ki" => KIB as f64,
        "M" | "m" | "MiB" | "Mi" => MIB as f64,
        "G" | "g" | "GiB" | "Gi" => GIB as f64,
        "T" | "t" | "TiB" | "Ti" => TIB as f64,
        "P" | "PiB" | "Pi" => (TIB * 1024) as f64,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    })
}

fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end =
        s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_' || c == '-' || c == '+')).unwrap_or(s.len());
    let (num, unit) = s.split_at(end);
    let num: String = num.chars().filter(|&c| c != '_').collect();
    let v: f64 = num.parse().ok()?;
    Some((v, unit))
}

/// Parse a size string such as `"8 GiB"`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let (v, unit) =
        split_number(s).ok_or_else(|| format!("invalid size `{s}`: expected a number and a unit such as \"8 GiB\""))?;
    let mult = size_unit(unit).ok_or_else(|| {
        format!("invalid size `{s}`: unknown unit `{}` (use B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)", unit.trim())
    })?;
    if v < 0.0 {
        return Err(format!("invalid size `{s}`: sizes cannot be negative"));
    }
    let bytes = v * mult;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("invalid size `{s}`: too large"));
    }
    if bytes.fract() != 0.0 {
        return Err(format!("invalid size `{s}`: not a whole number of bytes"));
    }
    Ok(bytes as u64)
}

impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size: a non-negative integer of bytes or a string like \"8 GiB\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                if v < 0 {
                    return Err(E::custom(format!("invalid size {v}: sizes cannot be negative")));
                }
                Ok(ByteSize(v as u64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ByteSize, E> {
                if v < 0.0 || v.fract() != 0.0 || !v.is_finite() {
                    return Err(E::custom(format!("invalid size {v}: expected a whole, non-negative number of bytes")));
                }
                Ok(ByteSize(v as u64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                parse_size(v).map(ByteSize).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A data rate in bytes per second; in TOML a number (bytes/s) or a string
/// with a unit: `"10 Gbit/s"`, `"10Gbps"`, `"128 MiB/s"`, `"1.25 GB/s"`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Rate(pub f64);

impl Rate {
    /// Bytes per second.
    pub fn bytes_per_s(self) -> f64 {
        self.0
    }
}

/// Parse a rate string such as `"10 Gbit/s"` into bytes per second.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let (v, unit) = split_number(s)
        .ok_or_else(|| format!("invalid rate `{s}`: expected a number and a unit such as \"10 Gbit/s\""))?;
    let u = unit.trim();
    let mult = match u {
        "" | "B/s" | "Bps" => 1.0,
        "bit/s" | "bps" => 1.0 / 8.0,
        "Kbit/s" | "kbit/s" | "Kbps" | "kbps" => 1e3 / 8.0,
        "Mbit/s" | "Mbps" => 1e6 / 8.0,
        "Gbit/s" | "Gbps" => 1e9 / 8.0,
        "Tbit/s" | "Tbps" => 1e12 / 8.0,
        _ => match u.strip_suffix("/s") {
            Some(sz) => size_unit(sz).ok_or_else(|| format!("invalid rate `{s}`: unknown unit `{u}`"))?,
            None => return Err(format!("invalid rate `{s}`: unknown unit `{u}` (use e.g. Gbit/s, Mbps, MiB/s, GB/s)")),
        },
    };
    let r = v * mult;
    if !r.is_finite() || r < 0.0 {
        return Err(format!("invalid rate `{s}`: rates cannot be negative"));
    }
    Ok(r)
}

impl<'de> serde::Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate: a non-negative number of bytes/s or a string like \"10 Gbit/s\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                if v < 0 {
                    return Err(E::custom(format!("invalid rate {v}: rates cannot be negative")));
                }
                Ok(Rate(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                Ok(Rate(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
                if v.is_nan() || v < 0.0 || !v.is_finite() {
                    return Err(E::custom(format!("invalid rate {v}: expected a finite, non-negative number")));
                }
                Ok(Rate(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                parse_rate(v).map(Rate).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8 GiB"), Ok(8 * GIB));
        assert_eq!(parse_size("512M"), Ok(512 * MIB));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("10 GB"), Ok(10_000_000_000));
        assert!(parse_size("-1 GiB").is_err());
        assert!(parse_size("0.3 B").is_err());
        assert!(parse_size("3 parsecs").is_err());
        assert_eq!(parse_rate("10 Gbit/s"), Ok(1.25e9));
        assert_eq!(parse_rate("128 MiB/s"), Ok((128 * MIB) as f64));
    }
}
