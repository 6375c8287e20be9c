//! A user-space delay line for the namespace lab: copies every Ethernet frame between two
//! interfaces (AF_PACKET, through `pnet_datalink`), each after a fixed delay. The kernel here has
//! no `sch_netem`, so this is how the lab puts a link with a known round-trip time between the
//! district edge and "the internet".
//!
//! ```text
//! fitlab-delayline --a IFACE --b IFACE --delay-ms N --max-seconds S
//! ```
//!
//! Both interfaces must be in the namespace it runs in, carry no address, and have checksum and
//! segmentation offloads off on the links that feed them (frames are copied as they are seen: a
//! 64 KiB GSO frame or one with a partial checksum would not survive the copy). It prints
//! `ready` once both ports are open, a summary when it ends, and ends by itself after
//! `--max-seconds` (or when signalled).

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use pnet_datalink::{Channel, Config, DataLinkReceiver, DataLinkSender, NetworkInterface};

/// How often a blocked read or queue wait wakes to look at the clock.
const TICK: Duration = Duration::from_millis(100);
/// Largest frame copied: an Ethernet frame at MTU 1500 with a VLAN tag, with room to spare. A
/// larger one means an offload is still on; it is dropped and counted.
const MAX_FRAME: usize = 1600;
/// Most frames waiting in one direction; more are dropped (counted) rather than piling up.
const MAX_QUEUED: u64 = 10_000;

#[derive(Debug)]
struct Args {
    a: String,
    b: String,
    delay: Duration,
    max: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut a = None;
    let mut b = None;
    let mut delay = None;
    let mut max = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--a" => a = Some(value),
            "--b" => b = Some(value),
            "--delay-ms" => {
                let ms: u64 = value
                    .parse()
                    .map_err(|e| format!("--delay-ms {value}: {e}"))?;
                delay = Some(Duration::from_millis(ms));
            }
            "--max-seconds" => {
                let s: u64 = value
                    .parse()
                    .map_err(|e| format!("--max-seconds {value}: {e}"))?;
                max = Some(Duration::from_secs(s));
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        a: a.ok_or("--a is required")?,
        b: b.ok_or("--b is required")?,
        delay: delay.ok_or("--delay-ms is required")?,
        max: max.ok_or("--max-seconds is required")?,
    })
}

/// One port: what sends frames out of it, and what reads the frames arriving on it.
type Port = (Box<dyn DataLinkSender>, Box<dyn DataLinkReceiver>);

fn open(name: &str) -> Result<Port, String> {
    let iface: NetworkInterface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| format!("no interface {name} in this namespace"))?;
    let config = Config {
        read_timeout: Some(TICK),
        write_timeout: Some(Duration::from_secs(1)),
        read_buffer_size: 65_536,
        write_buffer_size: 65_536,
        promiscuous: true,
        ..Config::default()
    };
    match pnet_datalink::channel(&iface, config) {
        Ok(Channel::Ethernet(tx, rx)) => Ok((tx, rx)),
        Ok(_) => Err(format!("{name}: not an Ethernet channel")),
        Err(e) => Err(format!("cannot open {name}: {e}")),
    }
}

/// Frames copied, dropped as oversized, and dropped as over the queue limit, one direction.
#[derive(Debug, Default)]
struct Counts {
    copied: AtomicU64,
    oversized: AtomicU64,
    overflow: AtomicU64,
    queued: AtomicU64,
    send_errors: AtomicU64,
}

/// One direction: frames read from `rx` are sent on `tx` `delay` after they were read.
fn direction(
    mut rx: Box<dyn DataLinkReceiver>,
    mut tx: Box<dyn DataLinkSender>,
    delay: Duration,
    until: Instant,
    counts: Arc<Counts>,
) -> (thread::JoinHandle<()>, thread::JoinHandle<()>) {
    let (queue, pending) = mpsc::channel::<(Instant, Vec<u8>)>();
    let reader_counts = counts.clone();
    let reader = thread::spawn(move || {
        while Instant::now() < until {
            match rx.next() {
                Ok(frame) => {
                    if frame.len() > MAX_FRAME {
                        reader_counts.oversized.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    if reader_counts.queued.load(Ordering::Relaxed) >= MAX_QUEUED {
                        reader_counts.overflow.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    reader_counts.queued.fetch_add(1, Ordering::Relaxed);
                    if queue
                        .send((Instant::now() + delay, frame.to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    eprintln!("read failed: {e}");
                    break;
                }
            }
        }
    });
    let writer = thread::spawn(move || {
        while Instant::now() < until {
            match pending.recv_timeout(TICK) {
                Ok((due, frame)) => {
                    counts.queued.fetch_sub(1, Ordering::Relaxed);
                    let now = Instant::now();
                    if due > now {
                        thread::sleep(due - now);
                    }
                    match tx.send_to(&frame, None) {
                        Some(Ok(())) => {
                            counts.copied.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(Err(_)) | None => {
                            counts.send_errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    });
    (reader, writer)
}

fn summary(label: &str, c: &Counts) -> String {
    format!(
        "{label}: {} copied, {} oversized dropped, {} over the queue limit, {} send errors",
        c.copied.load(Ordering::Relaxed),
        c.oversized.load(Ordering::Relaxed),
        c.overflow.load(Ordering::Relaxed),
        c.send_errors.load(Ordering::Relaxed),
    )
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fitlab-delayline: {e}");
            return ExitCode::from(2);
        }
    };
    let ((tx_a, rx_a), (tx_b, rx_b)) = match (open(&args.a), open(&args.b)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("fitlab-delayline: {e}");
            return ExitCode::from(1);
        }
    };
    let until = Instant::now() + args.max;
    let a_to_b = Arc::new(Counts::default());
    let b_to_a = Arc::new(Counts::default());
    let (r1, w1) = direction(rx_a, tx_b, args.delay, until, a_to_b.clone());
    let (r2, w2) = direction(rx_b, tx_a, args.delay, until, b_to_a.clone());
    println!(
        "ready: {} <-> {}, {} ms each way, for at most {} s",
        args.a,
        args.b,
        args.delay.as_millis(),
        args.max.as_secs()
    );
    for h in [r1, w1, r2, w2] {
        let _ = h.join();
    }
    println!("{}", summary(&format!("{} -> {}", args.a, args.b), &a_to_b));
    println!("{}", summary(&format!("{} -> {}", args.b, args.a), &b_to_a));
    ExitCode::SUCCESS
}
