//! A small seeded generator (SplitMix64): deterministic ids, tokens and fault decisions
//! without pulling in a random-number crate.

/// SplitMix64: passes BigCrush, one `u64` of state, trivially seedable.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..=max`.
    pub fn up_to(&mut self, max: u64) -> u64 {
        if max == u64::MAX {
            self.next_u64()
        } else {
            self.next_u64() % (max + 1)
        }
    }

    /// True with probability `p` (clamped to 0..=1); draws nothing when `p <= 0`, so a
    /// disabled fault does not shift the sequence of the others.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.next_f64() < p
    }

    /// `len` characters of the URL-safe base64 alphabet, for opaque ids and tokens (like
    /// Dropbox's).
    pub fn token(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        while out.len() < len {
            let mut word = self.next_u64();
            for _ in 0..10 {
                if out.len() == len {
                    break;
                }
                out.push(ID_ALPHABET[(word & 63) as usize] as char);
                word >>= 6;
            }
        }
        out
    }

    /// `len` lowercase hex digits.
    pub fn hex(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len + 16);
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.next_u64()));
        }
        out.truncate(len);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(a.token(33), b.token(33));
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(Rng::new(8).next_u64(), Rng::new(7).next_u64());
    }

    #[test]
    fn token_and_hex_have_requested_length() {
        let mut r = Rng::new(1);
        assert_eq!(r.token(33).len(), 33);
        assert_eq!(r.hex(32).len(), 32);
        assert!(r.hex(32).chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn chance_bounds() {
        let mut r = Rng::new(3);
        assert!(!(0..1000).any(|_| r.chance(0.0)));
        assert!((0..1000).all(|_| r.chance(1.0)));
        let hits = (0..10_000).filter(|_| r.chance(0.3)).count();
        assert!((2500..3500).contains(&hits), "{hits}");
    }
}
