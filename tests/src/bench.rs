//! What the benchmark programs share: a process's resident memory, and an access link shaped
//! between two lab namespaces (tbf for the rate, loss on arrival), with its TCP ceiling.

use std::path::Path;

use anyhow::Result;

/// A process's resident memory now and at its peak (`VmRSS`, `VmHWM`), KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

impl Memory {
    pub fn rss_mib(self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }

    pub fn peak_mib(self) -> f64 {
        self.hwm_kib as f64 / 1024.0
    }

    /// `41.2 MB (peak 58.9 MB)`.
    pub fn show(self) -> String {
        format!("{:.1} MB (peak {:.1} MB)", self.rss_mib(), self.peak_mib())
    }
}

/// The memory of process `pid` (zero where `/proc` does not tell).
pub fn memory(pid: u32) -> Memory {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
    }
}

/// TCP goodput over a tbf-shaped Ethernet link: tbf counts whole frames, so payload tops out
/// at 1448 of every 1514 bytes (timestamps on).
pub fn ceiling(rate_mbps: u32) -> f64 {
    f64::from(rate_mbps) * 1448.0 / 1514.0
}

/// How a benchmark's access link behaves.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub rate_mbps: u32,
    pub rtt_ms: u32,
    pub loss_percent: f64,
}

/// Shapes a link at both of its `ends` (namespace role, device), running commands through
/// `exec` (role, command line): tbf on each end's egress — a bucket of at least a few frames
/// and ~2 ms at rate, a queue of about half a BDP plus 20 ms, as an access link has — and, with
/// loss, random drops on arrival (netdev ingress), as a lossy link loses them: a drop on the
/// sender's own output would be reported to it as an error, which a link never does. The
/// nftables rules are written to `{rules}-{role}.nft`. Delay is the delay line's.
pub fn shape_link(
    exec: impl Fn(&str, &[&str]) -> Result<String>,
    ends: [(&str, &str); 2],
    shape: Shape,
    rules: &Path,
) -> Result<()> {
    let rate = format!("{}mbit", shape.rate_mbps);
    let burst = format!(
        "{}",
        (shape.rate_mbps as usize * 1_000_000 / 8 / 500).max(15_000)
    );
    let latency = format!("{}ms", shape.rtt_ms / 2 + 20);
    for (role, dev) in ends {
        exec(
            role,
            &[
                "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", &rate, "burst", &burst,
                "latency", &latency,
            ],
        )?;
    }
    if shape.loss_percent > 0.0 {
        let per_10000 = (shape.loss_percent * 100.0).round() as u32;
        for (role, dev) in ends {
            let file = format!("{}-{role}.nft", rules.display());
            std::fs::write(
                &file,
                format!(
                    "table netdev fitlabloss {{\n  chain in {{\n    type filter hook ingress device \"{dev}\" priority 0;\n    numgen random mod 10000 < {per_10000} drop\n  }}\n}}\n"
                ),
            )?;
            exec(role, &["nft", "-f", &file])?;
        }
    }
    Ok(())
}
