//! Accuracy benchmark of fitcheck's throughput and latency figures against links of known rate,
//! delay and loss, with iperf3 and ping measured in the same run as references.
//!
//! ```text
//! cargo build --release -p fitcheck-agent -p fitcheck-bandwidth -p fitcheck-tests --bins
//! sudo target/release/bandwidth-bench [--quick] [--seconds 8]
//! ```
//!
//! For each cell of the matrix (rate 10/50/200 Mbit/s × RTT 2/40/150 ms × loss 0/0.5/1 %) it
//! builds three namespaces — client, delay, server — joined by veth: `tbf` shapes the rate on
//! both ends' egress, `fitlab-delayline` (AF_PACKET, user space: this kernel has no netem) in
//! the middle namespace adds half the RTT each way, and nftables drops the configured share of
//! packets in each direction. It measures download and upload with `fitcheck-agent bandwidth`
//! (which stops a direction once its figure is stable, within its 15 s cap) and with
//! `iperf3 -P 4` (for a fixed time, `--seconds`), printing each one's actual duration, then RTT,
//! jitter and loss with the agent and with `ping`, and prints the figures side by side. Needs root, iperf3, ethtool, nft, ping.
//! Traffic stays inside the namespaces it creates; they are removed when it ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fitcheck_tests::bench::{Shape, ceiling, shape_link};
use fitcheck_tests::lab::{must, run_bounded};
use serde_json::Value;

const SERVER_IP: &str = "10.234.0.1";
const CLIENT_IP: &str = "10.234.0.2";

#[derive(Debug, Clone, Copy)]
struct Cell {
    rate_mbps: u32,
    rtt_ms: u32,
    loss_percent: f64,
}

struct Net {
    tag: String,
    children: Vec<Child>,
}

impl Net {
    fn ns(&self, role: &str) -> String {
        format!("fcb{}-{role}", self.tag)
    }

    fn exec(&self, role: &str, args: &[&str]) -> Result<String> {
        let ns = self.ns(role);
        let mut full = vec!["ip", "netns", "exec", ns.as_str()];
        full.extend_from_slice(args);
        must(&full)
    }

    /// Runs a measurement in `role`'s namespace: like `exec`, but allowed two minutes (a
    /// bandwidth run on a long lossy path takes over half a minute).
    fn long(&self, role: &str, args: &[&str]) -> Result<String> {
        let f = run_bounded(
            Command::new("ip")
                .args(["netns", "exec", &self.ns(role)])
                .args(args),
            Duration::from_secs(120),
        )?;
        if !f.status.success() {
            bail!("{args:?} failed ({}): {}", f.status, f.stderr.trim());
        }
        Ok(f.stdout)
    }

    fn spawn(&mut self, role: &str, args: &[&str]) -> Result<()> {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(role)])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {args:?}"))?;
        self.children.push(child);
        Ok(())
    }

    fn build(cell: Cell, bins: &Bins, seconds: u64, state: &Path) -> Result<Net> {
        let tag = std::process::id().to_string();
        let mut net = Net {
            tag,
            children: Vec::new(),
        };
        net.teardown();
        for role in ["cl", "dl", "sv"] {
            must(&["ip", "netns", "add", &net.ns(role)])?;
            net.exec(role, &["ip", "link", "set", "lo", "up"])?;
        }
        let (cl, dl, sv) = (net.ns("cl"), net.ns("dl"), net.ns("sv"));
        must(&[
            "ip", "link", "add", "cl0", "netns", &cl, "type", "veth", "peer", "name", "dla",
            "netns", &dl,
        ])?;
        must(&[
            "ip", "link", "add", "sv0", "netns", &sv, "type", "veth", "peer", "name", "dlb",
            "netns", &dl,
        ])?;
        net.exec(
            "cl",
            &[
                "ip",
                "addr",
                "add",
                &format!("{CLIENT_IP}/24"),
                "dev",
                "cl0",
            ],
        )?;
        net.exec(
            "sv",
            &[
                "ip",
                "addr",
                "add",
                &format!("{SERVER_IP}/24"),
                "dev",
                "sv0",
            ],
        )?;
        for (role, dev) in [("cl", "cl0"), ("dl", "dla"), ("dl", "dlb"), ("sv", "sv0")] {
            net.exec(
                role,
                &[
                    "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off",
                    "rx", "off",
                ],
            )?;
            net.exec(role, &["ip", "link", "set", dev, "up"])?;
        }
        for dev in ["dla", "dlb"] {
            net.exec(
                "dl",
                &[
                    "sysctl",
                    "-qw",
                    &format!("net.ipv4.conf.{dev}.arp_ignore=8"),
                ],
            )?;
            net.exec(
                "dl",
                &[
                    "sysctl",
                    "-qw",
                    &format!("net.ipv4.conf.{dev}.forwarding=0"),
                ],
            )?;
        }
        shape_link(
            |role, args| net.exec(role, args),
            [("cl", "cl0"), ("sv", "sv0")],
            Shape {
                rate_mbps: cell.rate_mbps,
                rtt_ms: cell.rtt_ms,
                loss_percent: cell.loss_percent,
            },
            &state.join(format!("loss-{}", net.tag)),
        )?;
        let one_way = format!("{}", cell.rtt_ms / 2);
        let limit = format!("{}", seconds * 8 + 120);
        let delayline = bins.delayline.display().to_string();
        net.spawn(
            "dl",
            &[
                &delayline,
                "--a",
                "dla",
                "--b",
                "dlb",
                "--delay-ms",
                &one_way,
                "--max-seconds",
                &limit,
            ],
        )?;
        let server = bins.server.display().to_string();
        net.spawn("sv", &[&server, "--listen", &format!("{SERVER_IP}:8480")])?;
        net.spawn("sv", &["iperf3", "-s", "-B", SERVER_IP, "-p", "5201"])?;
        // Wait until the path works end to end (bounded).
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ok = net
                .exec("cl", &["ping", "-c", "1", "-W", "1", SERVER_IP])
                .is_ok();
            if ok {
                break;
            }
            if Instant::now() > deadline {
                bail!("the benchmark link did not come up (is ping installed?)");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(300));
        Ok(net)
    }

    fn teardown(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.children.clear();
        for role in ["cl", "dl", "sv"] {
            let _ = run_bounded(
                Command::new("ip").args(["netns", "del", &self.ns(role)]),
                Duration::from_secs(10),
            );
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.teardown();
    }
}

struct Bins {
    agent: PathBuf,
    server: PathBuf,
    delayline: PathBuf,
}

fn bins() -> Result<Bins> {
    let dir = std::env::current_exe()?
        .parent()
        .context("no directory for this program")?
        .to_owned();
    let b = Bins {
        agent: dir.join("fitcheck-agent"),
        server: dir.join("fitcheck-bandwidth-server"),
        delayline: dir.join("fitlab-delayline"),
    };
    for p in [&b.agent, &b.server, &b.delayline] {
        if !p.exists() {
            bail!(
                "{} is missing: run `cargo build --release -p fitcheck-agent -p fitcheck-bandwidth -p fitcheck-tests --bins` first",
                p.display()
            );
        }
    }
    Ok(b)
}

#[derive(Debug, Default, Clone)]
struct Row {
    iperf_down: Option<f64>,
    iperf_up: Option<f64>,
    iperf_down_s: Option<f64>,
    iperf_up_s: Option<f64>,
    fc_down: Option<f64>,
    fc_up: Option<f64>,
    fc_down_s: Option<f64>,
    fc_up_s: Option<f64>,
    fc_down_win: Option<f64>,
    fc_up_win: Option<f64>,
    fc_total_s: Option<f64>,
    streams: Option<u64>,
    rtt_idle: Option<f64>,
    rtt_loaded: Option<f64>,
    caveats: String,
    ping_avg: Option<f64>,
    ping_mdev: Option<f64>,
    ping_loss: Option<f64>,
    fc_rtt: Option<f64>,
    fc_jitter: Option<f64>,
    fc_loss: Option<f64>,
    fc_method: String,
}

/// Mbit/s and the seconds iperf3 actually measured, as its receiver counts them.
fn iperf(net: &Net, seconds: u64, reverse: bool) -> Option<(f64, f64)> {
    let t = seconds.to_string();
    let mut args = vec![
        "iperf3",
        "-c",
        SERVER_IP,
        "-P",
        "4",
        "-t",
        t.as_str(),
        "-J",
        "-p",
        "5201",
    ];
    if reverse {
        args.push("-R");
    }
    let out = net
        .long("cl", &args)
        .map_err(|e| eprintln!("iperf3: {e:#}"))
        .ok()?;
    let v: Value = serde_json::from_str(&out).ok()?;
    let sum = &v["end"]["sum_received"];
    Some((
        sum["bits_per_second"].as_f64()? / 1e6,
        sum["seconds"].as_f64()?,
    ))
}

fn fitcheck_bandwidth(net: &Net, bins: &Bins, state: &Path, row: &mut Row) {
    let agent = bins.agent.display().to_string();
    let url = format!("http://{SERVER_IP}:8480/");
    let st = state.display().to_string();
    let Ok(out) = net
        .long(
            "cl",
            &[
                &agent,
                "bandwidth",
                "--server",
                &url,
                "--seconds",
                "15",
                "--json",
                "--state-dir",
                &st,
            ],
        )
        .map_err(|e| eprintln!("fitcheck-agent bandwidth: {e:#}"))
    else {
        return;
    };
    let Ok(v) = serde_json::from_str::<Value>(&out) else {
        return;
    };
    row.fc_down = v["download_mbps"].as_f64();
    row.fc_up = v["upload_mbps"].as_f64();
    row.fc_down_s = v["download_duration_ms"].as_f64().map(|m| m / 1000.0);
    row.fc_up_s = v["upload_duration_ms"].as_f64().map(|m| m / 1000.0);
    row.fc_down_win = v["download_window_ms"].as_f64().map(|m| m / 1000.0);
    row.fc_up_win = v["upload_window_ms"].as_f64().map(|m| m / 1000.0);
    row.fc_total_s = v["duration_ms"].as_f64().map(|m| m / 1000.0);
    row.streams = v["streams"].as_u64();
    row.rtt_idle = v["rtt_idle_ms"].as_f64();
    row.rtt_loaded = v["rtt_loaded_ms"].as_f64();
    row.caveats = v["validity"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
}

fn latency(net: &Net, bins: &Bins, state: &Path, row: &mut Row) {
    let profile = state.join("latency.toml");
    let text = format!(
        "format = 1\nid = \"bench\"\nname = \"bench\"\nvendor = \"bench\"\nreviewed = \"2026-11-23\"\nsources = [\"https://bench.invalid/\"]\n[network]\nmax_rtt_ms = 1000\nmax_jitter_ms = 1000\nmax_loss_percent = 100\nprobe_host = \"{SERVER_IP}\"\n"
    );
    if std::fs::write(&profile, text).is_err() {
        return;
    }
    let report = state.join("latency.json");
    let agent = bins.agent.display().to_string();
    let _ = net.long(
        "cl",
        &[
            &agent,
            "run",
            "--quiet",
            "--profile",
            &profile.display().to_string(),
            "--json",
            &report.display().to_string(),
            "--state-dir",
            &state.display().to_string(),
        ],
    );
    if let Some(l) = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v["results"]
                .as_array()?
                .iter()
                .find(|r| r["check"] == "latency")
                .cloned()
        })
    {
        row.fc_rtt = l["rtt_ms"].as_f64();
        row.fc_jitter = l["jitter_ms"].as_f64();
        row.fc_loss = l["loss_percent"].as_f64();
        row.fc_method = l["method"].as_str().unwrap_or("").to_owned();
    }
    // The same probe count and interval as the agent: 20 echoes, 200 ms apart.
    if let Ok(out) = net.long(
        "cl",
        &["ping", "-q", "-c", "20", "-i", "0.2", "-W", "1", SERVER_IP],
    ) {
        for line in out.lines() {
            if let Some(p) = line.split(", ").find(|p| p.contains("packet loss")) {
                row.ping_loss = p.trim_end_matches("% packet loss").trim().parse().ok();
            }
            if let Some(stats) = line.strip_prefix("rtt min/avg/max/mdev = ") {
                let nums: Vec<f64> = stats
                    .trim_end_matches(" ms")
                    .split('/')
                    .filter_map(|x| x.parse().ok())
                    .collect();
                row.ping_avg = nums.get(1).copied();
                row.ping_mdev = nums.get(3).copied();
            }
        }
    }
}

fn f(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.3}", a / b),
        _ => "-".to_owned(),
    }
}

/// Removes namespaces an earlier run left when it was killed (their process is gone).
fn remove_stale() {
    let Ok(list) = must(&["ip", "netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name.strip_prefix("fcb").and_then(|r| r.split('-').next()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            if let Ok(pids) = must(&["ip", "netns", "pids", name]) {
                for p in pids.split_whitespace() {
                    let _ = must(&["kill", p]);
                }
            }
            let _ = must(&["ip", "netns", "del", name]);
        }
    }
}

fn main() -> Result<()> {
    remove_stale();
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let seconds: u64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let bins = bins()?;
    let rates: &[u32] = if quick { &[50] } else { &[10, 50, 200] };
    let rtts: &[u32] = if quick { &[2, 40] } else { &[2, 40, 150] };
    let losses: &[f64] = if quick { &[0.0, 1.0] } else { &[0.0, 0.5, 1.0] };
    let state = tempfile::tempdir()?;
    println!(
        "Throughput (Mbit/s). ceiling = goodput over tbf (rate x 1448/1514); iperf3 -P 4 asked for {seconds} s per direction.\n"
    );
    println!(
        "{:>5} {:>4} {:>4} | {:>6} | {:>7} {:>7} {:>6} {:>6} {:>6} {:>5} | {:>7} {:>7} {:>6} {:>6} {:>6} {:>5} | {:>5} {:>5} {:>5} | {:>3} {:>6} {:>6} | caveats\n(fc s / ipf s: how long fitcheck and iperf3 actually measured that direction; win: fitcheck's measured window after ramp-up; total: both directions and the RTT probes)",
        "rate",
        "rtt",
        "loss",
        "ceil",
        "dn ipf",
        "dn fc",
        "fc/ce",
        "fc/ipf",
        "fc s",
        "ipf s",
        "up ipf",
        "up fc",
        "fc/ce",
        "fc/ipf",
        "fc s",
        "ipf s",
        "win d",
        "win u",
        "total",
        "str",
        "rtt0",
        "rttL"
    );
    let mut lat_rows = Vec::new();
    let mut devs = Vec::new();
    let mut durations = Vec::new();
    let mut below_iperf = Vec::new();
    for &rate in rates {
        for &rtt in rtts {
            for &loss in losses {
                let cell = Cell {
                    rate_mbps: rate,
                    rtt_ms: rtt,
                    loss_percent: loss,
                };
                let mut row = Row::default();
                match Net::build(cell, &bins, seconds, state.path()) {
                    Ok(net) => {
                        fitcheck_bandwidth(&net, &bins, state.path(), &mut row);
                        let down = iperf(&net, seconds, true);
                        let up = iperf(&net, seconds, false);
                        (row.iperf_down, row.iperf_down_s) = (down.map(|d| d.0), down.map(|d| d.1));
                        (row.iperf_up, row.iperf_up_s) = (up.map(|u| u.0), up.map(|u| u.1));
                        if rate == rates[0] {
                            latency(&net, &bins, state.path(), &mut row);
                        }
                        drop(net);
                    }
                    Err(e) => eprintln!("cell {rate}/{rtt}/{loss}: {e:#}"),
                }
                let ce = ceiling(rate);
                for v in [row.fc_down, row.fc_up].into_iter().flatten() {
                    devs.push((v - ce).abs() / ce);
                }
                durations.extend([row.fc_down_s, row.fc_up_s].into_iter().flatten());
                for (fc, ipf) in [(row.fc_down, row.iperf_down), (row.fc_up, row.iperf_up)] {
                    if let (Some(fc), Some(ipf)) = (fc, ipf) {
                        below_iperf.push((ipf - fc) / ipf);
                    }
                }
                println!(
                    "{:>5} {:>4} {:>4} | {:>6.1} | {:>7} {:>7} {:>6} {:>6} {:>6} {:>5} | {:>7} {:>7} {:>6} {:>6} {:>6} {:>5} | {:>5} {:>5} {:>5} | {:>3} {:>6} {:>6} | {}",
                    rate,
                    rtt,
                    loss,
                    ce,
                    f(row.iperf_down),
                    f(row.fc_down),
                    ratio(row.fc_down, Some(ce)),
                    ratio(row.fc_down, row.iperf_down),
                    f(row.fc_down_s),
                    f(row.iperf_down_s),
                    f(row.iperf_up),
                    f(row.fc_up),
                    ratio(row.fc_up, Some(ce)),
                    ratio(row.fc_up, row.iperf_up),
                    f(row.fc_up_s),
                    f(row.iperf_up_s),
                    f(row.fc_down_win),
                    f(row.fc_up_win),
                    f(row.fc_total_s),
                    row.streams.map_or("-".to_owned(), |s| s.to_string()),
                    f(row.rtt_idle),
                    f(row.rtt_loaded),
                    row.caveats
                );
                if rate == rates[0] {
                    lat_rows.push((cell, row));
                }
            }
        }
    }
    if !devs.is_empty() {
        devs.sort_by(f64::total_cmp);
        let median = devs[devs.len() / 2];
        let worst = devs[devs.len() - 1];
        println!(
            "\n|fitcheck - ceiling| / ceiling: median {:.1} %, worst {:.1} % over {} figures",
            median * 100.0,
            worst * 100.0,
            devs.len()
        );
    }
    if !durations.is_empty() {
        durations.sort_by(f64::total_cmp);
        println!(
            "fitcheck duration per direction (ramp-up included): median {:.1} s, longest {:.1} s",
            durations[durations.len() / 2],
            durations[durations.len() - 1]
        );
    }
    if let Some(worst) = below_iperf.iter().copied().max_by(f64::total_cmp) {
        println!(
            "largest shortfall of fitcheck below iperf3 -P 4 in a cell: {:.1} %",
            worst.max(0.0) * 100.0
        );
    }
    println!(
        "\nLatency at {} Mbit/s: 20 probes 200 ms apart; configured round-trip loss = 1-(1-p)^2 with p dropped each way.\n",
        rates[0]
    );
    println!(
        "{:>4} {:>4} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>7} {:>7} {:>7} | method",
        "rtt",
        "loss",
        "ping avg",
        "fc med",
        "diff",
        "ping mdv",
        "fc jit",
        "",
        "cfg %",
        "ping %",
        "fc %"
    );
    for (cell, row) in lat_rows {
        let p = cell.loss_percent / 100.0;
        let cfg = (1.0 - (1.0 - p) * (1.0 - p)) * 100.0;
        let diff = match (row.fc_rtt, row.ping_avg) {
            (Some(a), Some(b)) => format!("{:+.2}", a - b),
            _ => "-".to_owned(),
        };
        println!(
            "{:>4} {:>4} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>7.2} {:>7} {:>7} | {}",
            cell.rtt_ms,
            cell.loss_percent,
            f(row.ping_avg),
            f(row.fc_rtt),
            diff,
            f(row.ping_mdev),
            f(row.fc_jitter),
            "",
            cfg,
            f(row.ping_loss),
            f(row.fc_loss),
            row.fc_method
        );
    }
    Ok(())
}
