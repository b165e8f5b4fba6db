//! The sync loop: one task that imports on an interval, sends queued time on
//! its own schedule, backs off (doubling, capped, jittered) while Harvest
//! fails, and takes commands ("sync now", "deliver", "reschedule") on a
//! channel. The desktop and `tickettime sync --every` both run it; what an
//! import or a delivery does is theirs (a [`Work`]), when it happens is
//! this module's.
//!
//! Time is tokio's: tests pause it and move it forward (`tokio::time::pause`),
//! so every schedule here is tested without waiting.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

/// How a step went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Harvest answered (or there was nothing to do).
    Done,
    /// Harvest failed: try again after a backoff.
    Failed,
    /// Not a passing failure (e.g. this person may not import): the loop ends.
    Stop,
}

impl Outcome {
    fn failed(self) -> bool {
        self == Outcome::Failed
    }
}

/// What the loop runs. Each method is one step; the loop decides when.
pub trait Work: Send {
    /// One import; `asked` when a person asked for it (Sync now).
    fn import(&mut self, asked: bool) -> impl Future<Output = Outcome> + Send;
    /// Sends what waits in this person's outbox.
    fn deliver(&mut self) -> impl Future<Output = Outcome> + Send;
    /// The time between imports while Harvest answers (read before each wait,
    /// so a changed setting takes effect).
    fn interval(&mut self) -> impl Future<Output = Duration> + Send;
    /// Every [`Plan::tick`] (the tray's elapsed time); nothing by default.
    fn tick(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// Read the running timer again; nothing by default.
    fn refresh(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// A command to a running loop.
#[derive(Debug)]
pub enum Command {
    /// Import now; answered when it is done.
    SyncNow(oneshot::Sender<Outcome>),
    /// Send queued time now (some was just queued or put back in line).
    Deliver,
    /// The interval changed: plan the next import again.
    Reschedule,
    /// Read the running timer again.
    Refresh,
}

/// Doubling backoff with "equal jitter": after `n` failures the wait is
/// between half and all of `base × 2ⁿ` (capped), chosen at random, so many
/// desktops failing together do not retry together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub cap: Duration,
}

impl Backoff {
    /// The wait after `failures` consecutive failures, from `base` (the wait
    /// when nothing fails). `random` is in `[0, 1)`.
    pub fn wait(self, base: Duration, failures: u32, random: f64) -> Duration {
        if failures == 0 {
            return base;
        }
        let full = base.saturating_mul(2u32.saturating_pow(failures.min(16))).min(self.cap);
        let half = full / 2;
        half + half.mul_f64(random.clamp(0.0, 1.0))
    }
}

/// When things happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Backoff of the imports (from the interval).
    pub imports: Backoff,
    /// How often the outbox is looked at while nothing fails (a cheap count).
    pub delivery_check: Duration,
    /// The first wait after a failed delivery, doubled per failure.
    pub delivery_retry: Duration,
    /// Backoff of the deliveries.
    pub deliveries: Backoff,
    /// How often [`Work::tick`] runs; `None` for never.
    pub tick: Option<Duration>,
    /// Import at once when the loop starts (else after one interval).
    pub import_at_start: bool,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            imports: Backoff { cap: Duration::from_secs(3600) },
            delivery_check: Duration::from_secs(60),
            delivery_retry: Duration::from_secs(30),
            deliveries: Backoff { cap: Duration::from_secs(900) },
            tick: Some(Duration::from_secs(60)),
            import_at_start: true,
        }
    }
}

/// Runs `work` until the command channel closes or a step says
/// [`Outcome::Stop`]; returns that last outcome.
pub async fn run<W: Work>(mut work: W, mut commands: mpsc::Receiver<Command>, plan: Plan) -> Outcome {
    run_with(&mut work, &mut commands, plan, fastrand::f64).await
}

/// [`run`] with the jitter's random source given (tests pin it).
pub async fn run_with<W: Work>(
    work: &mut W,
    commands: &mut mpsc::Receiver<Command>,
    plan: Plan,
    mut random: impl FnMut() -> f64 + Send,
) -> Outcome {
    let mut import_failures = 0u32;
    let mut next_import =
        if plan.import_at_start { Instant::now() } else { Instant::now() + work.interval().await };
    // Queued time goes out at start, then on its own backoff while Harvest fails.
    let mut next_delivery = Instant::now();
    let mut delivery_failures = 0u32;
    let mut tick = tokio::time::interval(plan.tick.unwrap_or(Duration::from_secs(3600)));
    // IMPORTANT: without Skip, a machine waking from sleep fires every missed tick at once.
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    tick.reset();
    loop {
        // The import that ran in this turn, if one did (on its time or asked).
        let imported = tokio::select! {
            _ = tokio::time::sleep_until(next_import) => Some(work.import(false).await),
            _ = tokio::time::sleep_until(next_delivery) => {
                let outcome = work.deliver().await;
                if outcome == Outcome::Stop {
                    return outcome;
                }
                delivery_failures = if outcome.failed() { delivery_failures + 1 } else { 0 };
                next_delivery = Instant::now() + if delivery_failures == 0 {
                    plan.delivery_check
                } else {
                    plan.deliveries.wait(plan.delivery_retry, delivery_failures - 1, random())
                };
                None
            }
            _ = tick.tick(), if plan.tick.is_some() => {
                work.tick().await;
                None
            }
            command = commands.recv() => match command {
                Some(Command::SyncNow(done)) => {
                    let outcome = work.import(true).await;
                    let _ = done.send(outcome);
                    Some(outcome)
                }
                Some(Command::Deliver) => {
                    next_delivery = Instant::now();
                    None
                }
                Some(Command::Reschedule) => {
                    next_import = Instant::now() + plan.imports.wait(work.interval().await, import_failures, random());
                    None
                }
                Some(Command::Refresh) => {
                    work.refresh().await;
                    None
                }
                None => return Outcome::Done,
            }
        };
        if let Some(outcome) = imported {
            if outcome == Outcome::Stop {
                return outcome;
            }
            import_failures = if outcome.failed() { import_failures + 1 } else { 0 };
            next_import =
                Instant::now() + plan.imports.wait(work.interval().await, import_failures, random());
            if import_failures == 0 {
                // Harvest answers again: what waits goes out now.
                next_delivery = next_delivery.min(Instant::now());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn the_backoff_doubles_within_its_jitter_and_stops_at_the_cap() {
        let backoff = Backoff { cap: Duration::from_secs(3600) };
        let base = Duration::from_secs(60);
        assert_eq!(backoff.wait(base, 0, 0.7), base, "no failure, no backoff");
        assert_eq!(backoff.wait(base, 1, 0.0), Duration::from_secs(60), "half of 120 s");
        assert_eq!(backoff.wait(base, 1, 1.0), Duration::from_secs(120));
        assert_eq!(backoff.wait(base, 3, 0.5), Duration::from_secs(360), "between 240 and 480 s");
        assert_eq!(backoff.wait(base, 30, 1.0), Duration::from_secs(3600), "capped");
        assert!(backoff.wait(base, 30, 0.0) >= Duration::from_secs(1800));
    }

    /// A scripted Harvest: the first `failures` imports fail, then each says
    /// `then`; every delivery says `deliver`. Records when each step ran (in
    /// seconds since the start).
    struct Script {
        started: Instant,
        failures: u32,
        then: Outcome,
        deliver: Outcome,
        imports: Arc<Mutex<Vec<(u64, bool)>>>,
        deliveries: Arc<Mutex<Vec<u64>>>,
    }

    impl Script {
        fn new(failures: u32, then: Outcome, deliver: Outcome) -> Script {
            Script {
                started: Instant::now(),
                failures,
                then,
                deliver,
                imports: Arc::default(),
                deliveries: Arc::default(),
            }
        }
    }

    impl Work for Script {
        async fn import(&mut self, asked: bool) -> Outcome {
            self.imports.lock().expect("log").push((self.started.elapsed().as_secs(), asked));
            if self.failures > 0 {
                self.failures -= 1;
                Outcome::Failed
            } else {
                self.then
            }
        }

        async fn deliver(&mut self) -> Outcome {
            self.deliveries.lock().expect("log").push(self.started.elapsed().as_secs());
            self.deliver
        }

        async fn interval(&mut self) -> Duration {
            Duration::from_secs(300)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn imports_run_on_the_interval_back_off_while_failing_and_answer_sync_now_at_once() {
        let mut work = Script::new(2, Outcome::Done, Outcome::Done);
        let (imports, deliveries) = (work.imports.clone(), work.deliveries.clone());
        let (tx, mut rx) = mpsc::channel(4);
        let plan = Plan { tick: None, delivery_check: Duration::from_secs(10_000), ..Plan::default() };
        let driver = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2950)).await;
            let (done, answer) = oneshot::channel();
            tx.send(Command::SyncNow(done)).await.expect("send");
            let outcome = answer.await.expect("answered");
            tokio::time::sleep(Duration::from_secs(400)).await;
            drop(tx);
            outcome
        });
        // Jitter pinned at 1.0: each failed wait is the full doubled interval.
        let last = run_with(&mut work, &mut rx, plan, || 1.0).await;
        assert_eq!(last, Outcome::Done, "the loop ends when its channel closes");
        assert_eq!(driver.await.expect("driver"), Outcome::Done, "Sync now answers with its outcome");
        let imports = imports.lock().expect("log").clone();
        // 0 s fails → wait 600; 600 s fails → wait 1200; 1800 s works → every
        // 300 s: 2100, 2400, 2700; Sync now at 2950 (asked) plans the next at 3250.
        assert_eq!(
            imports,
            vec![
                (0, false),
                (600, false),
                (1800, false),
                (2100, false),
                (2400, false),
                (2700, false),
                (2950, true),
                (3250, false)
            ]
        );
        // Queued time goes out at start and after every import that worked
        // (never while Harvest fails); the idle check is far away here.
        let deliveries = deliveries.lock().expect("log").clone();
        assert_eq!(deliveries, vec![0, 1800, 2100, 2400, 2700, 2950, 3250]);
    }

    #[tokio::test(start_paused = true)]
    async fn while_harvest_is_down_deliveries_back_off_to_their_cap_and_never_spin() {
        let (tx, mut rx) = mpsc::channel(1);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3000)).await;
            drop(tx);
        });
        // Harvest down: every import and every delivery fails.
        let mut work = Script::new(u32::MAX, Outcome::Failed, Outcome::Failed);
        let plan = Plan { tick: None, ..Plan::default() };
        run_with(&mut work, &mut rx, plan, || 1.0).await;
        // 30 s doubling per failure, capped at 15 minutes.
        assert_eq!(*work.deliveries.lock().expect("log"), vec![0, 30, 90, 210, 450, 930, 1830, 2730]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_that_says_stop_ends_the_loop() {
        let (_tx, mut rx) = mpsc::channel(1);
        assert_eq!(
            run_with(&mut Script::new(0, Outcome::Stop, Outcome::Done), &mut rx, Plan::default(), || 0.5)
                .await,
            Outcome::Stop
        );
    }
}
