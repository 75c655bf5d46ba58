//! A small deterministic random number generator (SplitMix64) for the data-plane model:
//! Envoy draws random numbers to pick priorities, weighted routes, fault percentages and
//! retry back-off; the model draws them from a seeded generator so tests are repeatable.

/// SplitMix64.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A seed derived from a name (FNV-1a), e.g. the pod name of a proxy.
    pub(crate) fn seed_from(name: &str) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` when `n == 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// `true` with probability `pct` percent (0 never, 100 or more always).
    pub(crate) fn percent(&mut self, pct: u32) -> bool {
        match pct {
            0 => false,
            p if p >= 100 => true,
            p => self.below(100) < u64::from(p),
        }
    }

    /// `true` with probability `pct` percent, fractional (Istio's `percentage.value`).
    pub(crate) fn percent_f64(&mut self, pct: f64) -> bool {
        if pct <= 0.0 {
            false
        } else if pct >= 100.0 {
            true
        } else {
            (self.below(1_000_000) as f64) < pct * 10_000.0
        }
    }
}
