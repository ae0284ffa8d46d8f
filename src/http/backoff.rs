//! Retry delays: exponential backoff with "equal jitter".

use std::time::Duration;

/// The delay before retry number `retry` (0 for the first): `base * 2^retry`, capped at `max`,
/// then a random point in its upper half, so that clients that failed together do not retry
/// together.
pub fn backoff_delay(retry: u32, base: Duration, max: Duration) -> Duration {
    let factor = 2u32.saturating_pow(retry.min(30));
    let full = base.saturating_mul(factor).min(max);
    full.mul_f64(0.5 + 0.5 * fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for _ in 0..50 {
            let d0 = backoff_delay(0, base, max);
            assert!(d0 >= Duration::from_millis(50) && d0 <= base);
            let d2 = backoff_delay(2, base, max);
            assert!(d2 >= Duration::from_millis(200) && d2 <= Duration::from_millis(400));
            assert!(backoff_delay(40, base, max) <= max);
        }
    }
}
