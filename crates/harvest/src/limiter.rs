//! The client-side rate limiter: at most N requests in any window (Harvest
//! allows 100 per 15 s), so the app stays under the limit without being told.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// A request budget per sliding window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: usize,
    pub window: Duration,
}

impl RateLimit {
    /// Harvest's general API limit.
    pub const HARVEST: RateLimit = RateLimit { requests: 100, window: Duration::from_secs(15) };
}

/// A sliding-window log of the last `requests` send times.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: RateLimit,
    sent: Mutex<VecDeque<Instant>>,
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Limiter { limit, sent: Mutex::new(VecDeque::with_capacity(limit.requests)) }
    }

    /// Waits until one more request fits in the window, then books it.
    pub(crate) async fn acquire(&self) {
        // The lock is held while waiting on purpose: callers queue in order
        // and no one can book the slot another is waiting for.
        let mut sent = self.sent.lock().await;
        loop {
            let now = Instant::now();
            while sent.front().is_some_and(|t| now.duration_since(*t) >= self.limit.window) {
                sent.pop_front();
            }
            if sent.len() < self.limit.requests {
                sent.push_back(now);
                return;
            }
            if let Some(oldest) = sent.front().copied() {
                // A 1 % margin: Harvest counts arrivals, and arrival times jitter.
                tokio::time::sleep_until(oldest + self.limit.window + self.limit.window / 100).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_window_ever_holds_more_than_the_limit() {
        let limiter = Limiter::new(RateLimit { requests: 5, window: Duration::from_secs(10) });
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..17 {
            limiter.acquire().await;
            times.push(Instant::now().duration_since(start));
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().filter(|u| **u - *t < Duration::from_secs(10)).count();
            assert!(in_window <= 5, "window starting at {t:?} holds {in_window} requests");
        }
        assert_eq!(
            times[5],
            Duration::from_millis(10_100),
            "the sixth waits for the first to leave the window (+1 %)"
        );
    }
}
