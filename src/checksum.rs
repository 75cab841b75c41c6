//! Checksums: parsing `ALGO:HEX` from a manifest, and computing digests while streaming.
//! sha256 is always computed (the JSON summary reports it); the manifest's algorithm is
//! computed beside it when it is another one.

use digest::Digest;
use std::fmt;

/// A supported digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha512,
    Sha1,
    Md5,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
            Algorithm::Sha1 => "sha1",
            Algorithm::Md5 => "md5",
        }
    }
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
            Algorithm::Sha1 => 40,
            Algorithm::Md5 => 32,
        }
    }
    fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            "sha1" => Some(Algorithm::Sha1),
            "md5" => Some(Algorithm::Md5),
            _ => None,
        }
    }
}

/// An expected digest, e.g. `sha256:9f86d0…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    pub algorithm: Algorithm,
    pub digest: Box<[u8]>,
}

impl Checksum {
    /// Parses `ALGO:HEX` (algorithm name and hex digits in any case).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (name, hex_digits) = text.split_once(':').ok_or_else(|| {
            format!("checksum {text:?} must look like ALGO:HEX, e.g. sha256:9f86d0...")
        })?;
        let algorithm = Algorithm::from_name(name.trim()).ok_or_else(|| {
            format!(
                "checksum algorithm {name:?} is not supported (use sha256, sha512, sha1 or md5)"
            )
        })?;
        let hex_digits = hex_digits.trim();
        if hex_digits.len() != algorithm.hex_len() {
            return Err(format!(
                "{} checksum must have {} hex digits, found {}",
                algorithm.name(),
                algorithm.hex_len(),
                hex_digits.len()
            ));
        }
        let digest = hex::decode(hex_digits)
            .map_err(|_| format!("checksum {text:?} has characters that are not hex digits"))?;
        Ok(Checksum {
            algorithm,
            digest: digest.into_boxed_slice(),
        })
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), hex::encode(&self.digest))
    }
}

/// Digests computed while the bytes stream past: sha256 when it will be reported, plus the
/// expected checksum's algorithm. With neither, updating costs nothing.
#[derive(Clone)]
pub struct Hashers {
    sha256: Option<sha2::Sha256>,
    extra: Option<Extra>,
}

#[derive(Clone)]
enum Extra {
    Sha512(sha2::Sha512),
    Sha1(sha1::Sha1),
    Md5(md5::Md5),
}

/// The result of [`Hashers::finish`].
pub struct Digests {
    /// Present when sha256 was asked for (or is the expected checksum's algorithm).
    pub sha256: Option<[u8; 32]>,
    extra: Option<Vec<u8>>,
}

impl Hashers {
    /// Hashers for `expected`, plus sha256 when `sha256` is true.
    pub fn new(expected: Option<&Checksum>, sha256: bool) -> Self {
        let sha256 = sha256 || expected.is_some_and(|c| c.algorithm == Algorithm::Sha256);
        let extra = expected.and_then(|c| match c.algorithm {
            Algorithm::Sha256 => None,
            Algorithm::Sha512 => Some(Extra::Sha512(sha2::Sha512::new())),
            Algorithm::Sha1 => Some(Extra::Sha1(sha1::Sha1::new())),
            Algorithm::Md5 => Some(Extra::Md5(md5::Md5::new())),
        });
        Hashers {
            sha256: sha256.then(sha2::Sha256::new),
            extra,
        }
    }

    /// No digest is wanted: feeding bytes would change nothing.
    pub fn is_empty(&self) -> bool {
        self.sha256.is_none() && self.extra.is_none()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.sha256 {
            h.update(bytes);
        }
        match &mut self.extra {
            None => {}
            Some(Extra::Sha512(h)) => h.update(bytes),
            Some(Extra::Sha1(h)) => h.update(bytes),
            Some(Extra::Md5(h)) => h.update(bytes),
        }
    }

    pub fn finish(self) -> Digests {
        let extra = self.extra.map(|e| match e {
            Extra::Sha512(h) => h.finalize().to_vec(),
            Extra::Sha1(h) => h.finalize().to_vec(),
            Extra::Md5(h) => h.finalize().to_vec(),
        });
        Digests {
            sha256: self.sha256.map(|h| h.finalize().into()),
            extra,
        }
    }
}

impl Digests {
    /// The computed digest in the expected checksum's algorithm.
    pub fn get(&self, algorithm: Algorithm) -> &[u8] {
        match (algorithm, &self.sha256, &self.extra) {
            (Algorithm::Sha256, Some(sha256), _) => sha256,
            (Algorithm::Sha256, None, _) => &[],
            (_, _, Some(extra)) => extra,
            // `Hashers::new` always computes the expected algorithm.
            (_, _, None) => &[],
        }
    }

    /// The sha256 as lowercase hex, when it was computed.
    pub fn sha256_hex(&self) -> Option<String> {
        self.sha256.map(hex::encode)
    }

    /// `Ok` when there is no expectation or it matches; otherwise the message for the user.
    pub fn verify(&self, expected: Option<&Checksum>) -> Result<(), String> {
        match expected {
            Some(c) if self.get(c.algorithm) != &*c.digest => Err(format!(
                "{} mismatch: expected {}, got {}",
                c.algorithm.name(),
                hex::encode(&c.digest),
                hex::encode(self.get(c.algorithm))
            )),
            _ => Ok(()),
        }
    }
}

/// Hashes a whole open file (used to check a file that is already there).
pub fn hash_file(
    file: std::fs::File,
    expected: Option<&Checksum>,
    sha256: bool,
) -> std::io::Result<Digests> {
    let len = file.metadata()?.len();
    Ok(hash_prefix(file, len, Hashers::new(expected, sha256))?.finish())
}

/// `hashers` fed with the first `len` bytes of an open file: the state to continue a resumed
/// download. The caller opens it (and decides what may be opened).
pub fn hash_prefix(
    file: std::fs::File,
    len: u64,
    mut hashers: Hashers,
) -> std::io::Result<Hashers> {
    use std::io::Read;
    if hashers.is_empty() {
        // Nothing to hash: reading a GiB back from disk would only check its length.
        return if file.metadata()?.len() >= len {
            Ok(hashers)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "file is shorter than expected",
            ))
        };
    }
    let mut file = file.take(len);
    let mut buf = vec![0u8; 256 * 1024];
    let mut read = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        read += n as u64;
        hashers.update(&buf[..n]);
    }
    if read < len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "file is shorter than expected",
        ));
    }
    Ok(hashers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_hashed_only_when_a_digest_is_wanted_but_always_measured() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "hello world").unwrap();
        let sha = hash_prefix(
            std::fs::File::open(&path).unwrap(),
            5,
            Hashers::new(None, true),
        )
        .unwrap()
        .finish();
        let hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert_eq!(sha.sha256_hex().as_deref(), Some(hello));
        let none = hash_prefix(
            std::fs::File::open(&path).unwrap(),
            11,
            Hashers::new(None, false),
        )
        .unwrap();
        assert!(none.is_empty() && none.finish().sha256_hex().is_none());
        for sha256 in [true, false] {
            let short = hash_prefix(
                std::fs::File::open(&path).unwrap(),
                12,
                Hashers::new(None, sha256),
            )
            .err()
            .unwrap();
            assert_eq!(short.kind(), std::io::ErrorKind::UnexpectedEof, "{sha256}");
        }
    }

    #[test]
    fn parses_and_rejects() {
        let ok = "sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
        assert_eq!(Checksum::parse(ok).unwrap().algorithm, Algorithm::Sha256);
        assert!(Checksum::parse("md5:d41d8cd98f00b204e9800998ecf8427e").is_ok());
        assert!(
            Checksum::parse("sha256:abc")
                .unwrap_err()
                .contains("64 hex digits")
        );
        assert!(
            Checksum::parse("crc32:abcd")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            Checksum::parse("deadbeef")
                .unwrap_err()
                .contains("ALGO:HEX")
        );
        let bad_hex = format!("md5:{}", "g".repeat(32));
        assert!(Checksum::parse(&bad_hex).unwrap_err().contains("hex"));
    }

    #[test]
    fn verifies_every_algorithm() {
        for (algo, hex) in [
            (
                "sha256",
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            ),
            ("sha1", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
            ("md5", "098f6bcd4621d373cade4e832627b4f6"),
            (
                "sha512",
                "ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db27ac185f8a0e1d5f84f88bc887fd67b143732c304cc5fa9ad8e6f57f50028a8ff",
            ),
        ] {
            let c = Checksum::parse(&format!("{algo}:{hex}")).unwrap();
            let mut h = Hashers::new(Some(&c), false);
            h.update(b"te");
            h.update(b"st");
            assert_eq!(h.finish().verify(Some(&c)), Ok(()), "{algo}");
            let mut h = Hashers::new(Some(&c), true);
            h.update(b"nope");
            assert!(h.finish().verify(Some(&c)).is_err(), "{algo}");
        }
    }
}
