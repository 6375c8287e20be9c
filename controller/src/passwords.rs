//! Password hashing on a few threads of its own. Argon2id is slow and takes 19 MiB on purpose;
//! run on tokio's blocking pool (up to 512 threads), a flood of log-ins held hundreds of those
//! at once and the allocator kept them. Here a fixed number of threads (one per core, at most
//! [`MAX_THREADS`]) hash one password each at a time, each in the one work buffer it keeps, so
//! the memory password hashing can take is that many buffers, however long a flood lasts; jobs
//! wait in a short queue, and past it the caller is told to come back ([`Busy`]).

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::auth;

/// Most hashing threads, whatever the machine.
pub const MAX_THREADS: usize = 4;
/// Jobs that may wait for a thread; more are refused at once.
const QUEUE: usize = 32;

/// The pool is full: too many log-ins at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

enum Job {
    Hash {
        password: String,
        answer: oneshot::Sender<Result<String, String>>,
    },
    Verify {
        password: String,
        /// The stored PHC string, or none for an unknown user (a dummy hash is checked, so an
        /// unknown name costs the same time as a known one).
        stored: Option<String>,
        answer: oneshot::Sender<bool>,
    },
}

/// The hashing threads and their queue. Dropping it ends the threads once the queue is empty.
#[derive(Debug)]
pub struct PasswordPool {
    jobs: SyncSender<Job>,
    threads: usize,
}

impl PasswordPool {
    /// One thread per core, at most [`MAX_THREADS`].
    pub fn new() -> PasswordPool {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        PasswordPool::with_threads(cores.clamp(1, MAX_THREADS))
    }

    /// `threads` hashing threads (at least one).
    pub fn with_threads(threads: usize) -> PasswordPool {
        let threads = threads.max(1);
        let (jobs, queue) = sync_channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || work(&queue));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "Cannot start a password hashing thread.");
            }
        }
        PasswordPool { jobs, threads }
    }

    /// How many threads hash.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Whether `password` matches `stored` (false for no stored hash, after the same work).
    pub async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool, Busy> {
        let (answer, rx) = oneshot::channel();
        self.submit(Job::Verify {
            password: password.to_owned(),
            stored,
            answer,
        })?;
        Ok(rx.await.unwrap_or(false))
    }

    /// A new Argon2id hash of `password`.
    pub async fn hash(&self, password: &str) -> Result<Result<String, String>, Busy> {
        let (answer, rx) = oneshot::channel();
        self.submit(Job::Hash {
            password: password.to_owned(),
            answer,
        })?;
        Ok(rx
            .await
            .unwrap_or_else(|_| Err("the hashing thread stopped".to_owned())))
    }

    fn submit(&self, job: Job) -> Result<(), Busy> {
        match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Busy),
        }
    }
}

impl Default for PasswordPool {
    fn default() -> Self {
        PasswordPool::new()
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    // One work buffer for every password this thread ever hashes. (Freeing it when idle gave
    // nothing back: glibc kept the freed 19 MiB and took fresh memory for the next buffer.)
    let mut scratch = auth::Scratch::default();
    loop {
        let job = {
            let Ok(q) = queue.lock() else { return };
            match q.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        match job {
            Job::Hash { password, answer } => {
                let _ = answer.send(auth::hash_password_with(&mut scratch, &password));
            }
            Job::Verify {
                password,
                stored,
                answer,
            } => {
                let ok = match &stored {
                    Some(s) => auth::verify_password_with(&mut scratch, &password, s),
                    None => {
                        let dummy = auth::dummy_hash(&mut scratch);
                        auth::verify_password_with(&mut scratch, &password, dummy);
                        false
                    }
                };
                let _ = answer.send(ok);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_and_verifies() {
        let pool = PasswordPool::with_threads(1);
        let h = pool.hash("correct horse").await.unwrap().unwrap();
        assert!(pool.verify("correct horse", Some(h.clone())).await.unwrap());
        assert!(!pool.verify("wrong", Some(h)).await.unwrap());
        assert!(!pool.verify("anything", None).await.unwrap());
    }

    #[test]
    fn past_its_queue_the_pool_is_busy() {
        // No thread takes jobs: exactly QUEUE wait, the rest are refused.
        let (jobs, queue) = sync_channel::<Job>(QUEUE);
        let pool = PasswordPool { jobs, threads: 0 };
        let mut busy = 0;
        for _ in 0..(QUEUE + 8) {
            let (answer, _rx) = oneshot::channel();
            let job = Job::Verify {
                password: "x".to_owned(),
                stored: None,
                answer,
            };
            if pool.submit(job) == Err(Busy) {
                busy += 1;
            }
        }
        assert_eq!(busy, 8);
        assert_eq!(queue.try_iter().count(), QUEUE);
    }
}
