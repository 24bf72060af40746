//! A small, seedable, platform-independent PRNG.
//!
//! Determinism is a requirement (same scenario and seed give the same
//! results on every machine), so the generator is written here rather than
//! taken from a crate whose algorithm may change between versions:
//! xoshiro256++ seeded through SplitMix64.

/// xoshiro256++ pseudo-random generator.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

/// One step of SplitMix64; also used as a stateless hash.
#[inline]
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole sequence is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut s = [0u64; 4];
        for slot in &mut s {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *slot = splitmix64(x);
        }
        // The all-zero state is the one state xoshiro cannot leave.
        if s == [0; 4] {
            s[0] = 1;
        }
        Rng { s }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[0].wrapping_add(self.s[3]).rotate_left(23).wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform float in `[0, 1)`.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `[0, n)` (`n > 0`), by multiply-high, which is
    /// unbiased enough for page positions and much cheaper than rejection.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A standard normal deviate (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A Poisson deviate with mean `lambda`: exact for small means, normal
    /// approximation (continuity-corrected) above 30 where the difference is
    /// far below what the model resolves.
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda.is_nan() || lambda <= 0.0 || !lambda.is_finite() {
            return 0;
        }
        if lambda < 30.0 {
            let l = (-lambda).exp();
            let mut k = 0u64;
            let mut p = 1.0;
            loop {
                p *= self.next_f64();
                if p <= l {
                    return k;
                }
                k += 1;
            }
        }
        let x = lambda + lambda.sqrt() * self.normal() + 0.5;
        if x <= 0.0 {
            0
        } else {
            x.floor() as u64
        }
    }

    /// A word whose bits are independently set with probability `p`.
    ///
    /// `p` is expanded into its first 16 binary digits and combined with one
    /// random word per digit (AND for a 0 digit, OR for a 1 digit, from the
    /// least significant digit up): this draws 64 Bernoulli(p) bits with a
    /// handful of generator calls instead of 64.
    pub fn bernoulli_word(&mut self, digits: &BernoulliDigits) -> u64 {
        match digits.kind {
            BernoulliKind::Zero => 0,
            BernoulliKind::One => u64::MAX,
            BernoulliKind::Digits => {
                let mut x = 0u64;
                for i in (0..digits.len).rev() {
                    let r = self.next_u64();
                    x = if digits.bits >> (15 - i) & 1 == 1 { r | x } else { r & x };
                }
                x
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BernoulliKind {
    Zero,
    One,
    Digits,
}

/// A probability prepared for [`Rng::bernoulli_word`].
#[derive(Debug, Clone, Copy)]
pub struct BernoulliDigits {
    kind: BernoulliKind,
    bits: u16,
    len: u32,
}

impl BernoulliDigits {
    /// Prepare probability `p` (clamped to `[0, 1]`), to 2^-16 precision.
    pub fn new(p: f64) -> Self {
        let p = if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.0 };
        let scaled = (p * 65536.0).round() as u32;
        if scaled == 0 {
            return BernoulliDigits { kind: BernoulliKind::Zero, bits: 0, len: 0 };
        }
        if scaled >= 65536 {
            return BernoulliDigits { kind: BernoulliKind::One, bits: 0, len: 0 };
        }
        let bits = scaled as u16;
        // Trailing zero digits would only AND with fresh random words on an
        // all-zero accumulator; skip them.
        let len = 16 - bits.trailing_zeros();
        BernoulliDigits { kind: BernoulliKind::Digits, bits, len }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn bernoulli_density() {
        let mut r = Rng::new(1);
        for &p in &[0.01, 0.25, 0.5, 0.7, 0.999] {
            let d = BernoulliDigits::new(p);
            let mut ones = 0u64;
            let words = 20_000;
            for _ in 0..words {
                ones += r.bernoulli_word(&d).count_ones() as u64;
            }
            let got = ones as f64 / (words * 64) as f64;
            assert!((got - p).abs() < 0.01, "p={p} got={got}");
        }
    }

    #[test]
    fn poisson_mean() {
        let mut r = Rng::new(3);
        for &l in &[0.5, 5.0, 100.0] {
            let n = 20_000;
            let s: u64 = (0..n).map(|_| r.poisson(l)).sum();
            let m = s as f64 / n as f64;
            assert!((m - l).abs() < 0.05 * l + 0.05, "lambda={l} mean={m}");
        }
    }
}
