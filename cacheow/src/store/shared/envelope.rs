//! An outcome's bytes in Redis: its file's JSON, gzipped when it is over
//! 64 KiB (as cacherator does past 100 KB). Local files stay plain. A gzip
//! stream starts with bytes no JSON text starts with, so each value says
//! what it is.

use std::io::{Read as _, Write as _};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// Values larger than this are compressed.
pub(crate) const COMPRESS_OVER: usize = 64 * 1024;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most a value may take once decompressed: what is larger (a gzip
/// bomb under the prefix) is refused unread, not held in memory.
const LARGEST: u64 = 256 << 20;

/// The bytes to store for an outcome file's text.
pub(crate) fn encode(text: &str) -> Vec<u8> {
    if text.len() <= COMPRESS_OVER {
        return text.as_bytes().to_vec();
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(text.len() / 4), Compression::fast());
    // Writing to a `Vec` cannot fail.
    match encoder.write_all(text.as_bytes()).and_then(|()| encoder.finish()) {
        Ok(compressed) => compressed,
        Err(_) => text.as_bytes().to_vec(),
    }
}

/// An outcome file's text from its stored bytes; the error says why not.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, String> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut text = String::new();
        GzDecoder::new(bytes)
            .take(LARGEST + 1)
            .read_to_string(&mut text)
            .map_err(|error| format!("not a gzip stream of text: {error}"))?;
        if text.len() as u64 > LARGEST {
            return Err(format!("over {} MiB once decompressed", LARGEST >> 20));
        }
        return Ok(text);
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| "neither UTF-8 text nor a gzip stream".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_stay_plain_and_large_ones_are_compressed() {
        let small = r#"{"kind":"return","value":1}"#;
        assert_eq!(encode(small), small.as_bytes());
        let large = format!(r#"{{"kind":"return","value":"{}"}}"#, "ab".repeat(COMPRESS_OVER));
        let stored = encode(&large);
        assert!(stored.starts_with(&GZIP_MAGIC) && stored.len() < large.len() / 10);
        assert_eq!(decode(&stored).as_deref(), Ok(large.as_str()));
        assert_eq!(decode(small.as_bytes()).as_deref(), Ok(small));
        assert!(decode(&[0x1f, 0x8b, 0, 1]).is_err());
        assert!(decode(&[0xff, 0xfe]).is_err());
        // A gzip bomb: 300 MiB of spaces in a few hundred KiB.
        let mut bomb = GzEncoder::new(Vec::new(), Compression::best());
        let spaces = vec![b' '; 1 << 20];
        (0..300).for_each(|_| bomb.write_all(&spaces).unwrap_or_default());
        let bomb = bomb.finish().unwrap_or_default();
        assert!(decode(&bomb).is_err_and(|why| why.contains("MiB once decompressed")));
    }
}
