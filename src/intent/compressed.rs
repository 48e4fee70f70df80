//! An intent file compressed with gzip (RFC 1952): how the fleet's ConfigMap carries it
//! (`emit::fleet`, `binaryData`), and what every command that reads an intent accepts.
//!
//! Recognised by its magic bytes (`1f 8b`), not by its name: the name only chooses the
//! syntax (`intent.kdl.gz` is KDL, see [`Syntax::from_path`](super::Syntax::from_path)).
//! Compression is deterministic (no time stamp, operating system "unknown": flate2's
//! `GzBuilder` defaults), so the same intent always gives the same ConfigMap.
//! Decompression is bounded: a small file that inflates past the bound (a "zip bomb") is
//! refused once the bound is passed, never inflated whole.

use std::io::{Read, Write};

use flate2::Compression;

/// The first two bytes of every gzip member (RFC 1952 §2.3.1, ID1 and ID2).
pub const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The suffix of a compressed intent's name (`intent.yaml.gz`).
pub const SUFFIX: &str = ".gz";

/// Whether `bytes` start as a gzip stream does.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// `text` compressed at the best level, deterministically.
pub fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new().write(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(text.as_bytes());
    encoder.finish().unwrap_or_default()
}

/// Why a compressed intent could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum GunzipError {
    /// It inflates to more than the bound (in bytes).
    TooLarge(u64),
    /// Not a valid gzip stream (corrupt, truncated, a bad checksum, trailing bytes).
    Corrupt(String),
}

impl std::fmt::Display for GunzipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GunzipError::TooLarge(max) => write!(
                f,
                "it decompresses to more than {} MiB, the largest intent netc reads",
                max / (1024 * 1024)
            ),
            GunzipError::Corrupt(why) => write!(f, "not a valid gzip file: {why}"),
        }
    }
}

/// Decompresses `bytes` (one or more gzip members, as `gzip -d` reads them), reading no
/// further than one byte past `max` of output.
pub fn gunzip(bytes: &[u8], max: u64) -> Result<Vec<u8>, GunzipError> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| GunzipError::Corrupt(e.to_string()))?;
    if out.len() as u64 > max {
        return Err(GunzipError::TooLarge(max));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_exact_and_deterministic() {
        let text = "apiVersion: netc/v1alpha1\nkind: NetworkIntent\n# ünïcode\n".repeat(50);
        let packed = gzip(&text);
        assert!(is_gzip(&packed));
        assert!(packed.len() < text.len() / 10, "{}", packed.len());
        assert_eq!(packed, gzip(&text), "same text, same bytes");
        // No time stamp (bytes 4-7), operating system unknown (byte 9).
        assert_eq!(&packed[4..8], &[0, 0, 0, 0]);
        assert_eq!(packed[9], 255);
        assert_eq!(gunzip(&packed, 1 << 20).as_deref(), Ok(text.as_bytes()));
        assert!(!is_gzip(text.as_bytes()));
    }

    #[test]
    fn a_bomb_stops_at_the_bound() {
        // 8 MiB of zeros in about 8 KiB: refused at a 1 MiB bound after reading 1 MiB + 1.
        let bomb = gzip(&"\0".repeat(8 << 20));
        assert!(bomb.len() < 16 << 10, "{}", bomb.len());
        assert_eq!(gunzip(&bomb, 1 << 20), Err(GunzipError::TooLarge(1 << 20)));
        // Exactly at the bound is fine.
        let at = gzip(&"a".repeat(1 << 20));
        assert_eq!(gunzip(&at, 1 << 20).map(|v| v.len()), Ok(1 << 20));
    }

    #[test]
    fn corrupt_and_truncated_streams_are_refused() {
        let packed = gzip("kind: NetworkIntent\n");
        let truncated = &packed[..packed.len() - 4];
        assert!(matches!(
            gunzip(truncated, 1 << 20),
            Err(GunzipError::Corrupt(_))
        ));
        let mut flipped = packed.clone();
        let n = flipped.len();
        flipped[n - 8] ^= 0xff; // the CRC-32
        assert!(matches!(
            gunzip(&flipped, 1 << 20),
            Err(GunzipError::Corrupt(_))
        ));
        let mut trailing = packed.clone();
        trailing.extend_from_slice(b"junk");
        assert!(matches!(
            gunzip(&trailing, 1 << 20),
            Err(GunzipError::Corrupt(_))
        ));
        // Two members read as one text, as `gzip -d` does.
        let mut two = gzip("a: 1\n");
        two.extend(gzip("b: 2\n"));
        assert_eq!(gunzip(&two, 1 << 20).as_deref(), Ok(&b"a: 1\nb: 2\n"[..]));
    }
}
