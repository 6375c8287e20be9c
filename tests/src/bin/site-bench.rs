//! Site throughput benchmark: what fitcheck reports for a whole site — several devices behind
//! one shaped link, measuring the coordinated way through a real controller — against the
//! link's goodput ceiling and against iperf3 run from the same device namespaces at once.
//!
//! ```text
//! cargo build --release --workspace --bins
//! sudo target/release/site-bench [--quick] [--seconds 8]
//! ```
//!
//! Each cell builds, in namespaces: N device namespaces on a bridge in a `lan` namespace (the
//! school's router), the `lan` side of the uplink shaped by `tbf` on its egress (upload) and the
//! `sv` side on its egress (download), `fitlab-delayline` between them for the round trip (this
//! kernel has no netem) and nftables dropping a share of packets on arrival where the cell has
//! loss, and in `sv` the controller (`fitcheck-controller serve`) and one iperf3 server per
//! device. Each device's agent enrolls, the evaluation names one coordinated `start_at`, every
//! agent runs `daemon --once`, and the recommendation's site figure is read back. Then every
//! device runs `iperf3 -P 4` at the same moment, each direction, and their receivers' rates are
//! summed. The `late` cell starts one device's agent 16 s after the agreed moment: it must be
//! left out, and must not raise the figure.
//!
//! The controller is reached from here over a management veth into `sv` (never shaped). Traffic
//! stays inside the namespaces this program creates; they are removed when it ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fitcheck_tests::bench::{Shape, ceiling, shape_link};
use fitcheck_tests::controller::{ControllerProcess, Place};
use fitcheck_tests::lab::{must, run_bounded, without_proxies, workspace_binary};
use serde_json::{Value, json};

const SERVER_IP: &str = "10.235.0.1";
const LAN_UPLINK_IP: &str = "10.235.0.2";
const LAN_IP: &str = "10.235.1.1";
const MGMT_HOST_IP: &str = "10.235.9.1";
const MGMT_SV_IP: &str = "10.235.9.2";
/// A device that starts this long after the agreed moment has the link to itself.
const LATE_BY: Duration = Duration::from_secs(16);

#[derive(Debug, Clone, Copy)]
struct Cell {
    rate_mbps: u32,
    rtt_ms: u32,
    loss_percent: f64,
    devices: usize,
    late: bool,
}

struct Net {
    tag: String,
    devices: usize,
    children: Vec<Child>,
}

impl Net {
    fn ns(&self, role: &str) -> String {
        format!("fcs{}-{role}", self.tag)
    }

    fn dev(i: usize) -> String {
        format!("d{i}")
    }

    fn roles(&self) -> Vec<String> {
        let mut r: Vec<String> = ["lan", "dl", "sv"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        r.extend((0..self.devices).map(Net::dev));
        r
    }

    fn exec(&self, role: &str, args: &[&str]) -> Result<String> {
        let ns = self.ns(role);
        let mut full = vec!["ip", "netns", "exec", ns.as_str()];
        full.extend_from_slice(args);
        must(&full)
    }

    fn spawn(&mut self, role: &str, args: &[&str], log: &Path) -> Result<()> {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(role)])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .with_context(|| format!("cannot start {args:?}"))?;
        self.children.push(child);
        Ok(())
    }

    fn no_offloads(&self, role: &str, dev: &str) -> Result<()> {
        self.exec(
            role,
            &[
                "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx",
                "off",
            ],
        )?;
        Ok(())
    }

    fn build(n: usize, cell: Cell, delayline: &Path, seconds: u64, state: &Path) -> Result<Net> {
        // One tag per cell: the kernel removes a deleted namespace's links in the background.
        let mut net = Net {
            tag: format!("{}c{n}", std::process::id()),
            devices: cell.devices,
            children: Vec::new(),
        };
        net.teardown();
        for role in net.roles() {
            must(&["ip", "netns", "add", &net.ns(&role)])?;
            net.exec(&role, &["ip", "link", "set", "lo", "up"])?;
            // No resolver outside the lab: the agents reach everything by address.
            let etc = PathBuf::from("/etc/netns").join(net.ns(&role));
            std::fs::create_dir_all(&etc)?;
            std::fs::write(etc.join("resolv.conf"), format!("nameserver {LAN_IP}\n"))?;
        }
        let (lan, dl, sv) = (net.ns("lan"), net.ns("dl"), net.ns("sv"));
        must(&[
            "ip", "link", "add", "cl0", "netns", &lan, "type", "veth", "peer", "name", "dla",
            "netns", &dl,
        ])?;
        must(&[
            "ip", "link", "add", "sv0", "netns", &sv, "type", "veth", "peer", "name", "dlb",
            "netns", &dl,
        ])?;
        // The management link from here into sv.
        let mgmt = format!("fcs{}m", net.tag);
        must(&[
            "ip", "link", "add", &mgmt, "type", "veth", "peer", "name", "mg0", "netns", &sv,
        ])?;
        must(&[
            "ip",
            "addr",
            "add",
            &format!("{MGMT_HOST_IP}/30"),
            "dev",
            &mgmt,
        ])?;
        must(&["ip", "link", "set", &mgmt, "up"])?;
        net.exec(
            "sv",
            &[
                "ip",
                "addr",
                "add",
                &format!("{MGMT_SV_IP}/30"),
                "dev",
                "mg0",
            ],
        )?;
        net.exec("sv", &["ip", "link", "set", "mg0", "up"])?;

        net.exec("lan", &["ip", "link", "add", "br0", "type", "bridge"])?;
        net.exec(
            "lan",
            &["ip", "addr", "add", &format!("{LAN_IP}/24"), "dev", "br0"],
        )?;
        net.exec("lan", &["ip", "link", "set", "br0", "up"])?;
        net.exec(
            "lan",
            &[
                "ip",
                "addr",
                "add",
                &format!("{LAN_UPLINK_IP}/24"),
                "dev",
                "cl0",
            ],
        )?;
        net.exec("lan", &["sysctl", "-qw", "net.ipv4.ip_forward=1"])?;
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
        for i in 0..cell.devices {
            let d = net.ns(&Net::dev(i));
            let port = format!("lan{i}");
            must(&[
                "ip", "link", "add", "eth0", "netns", &d, "type", "veth", "peer", "name", &port,
                "netns", &lan,
            ])?;
            net.exec("lan", &["ip", "link", "set", &port, "master", "br0"])?;
            net.no_offloads("lan", &port)?;
            net.exec("lan", &["ip", "link", "set", &port, "up"])?;
            let role = Net::dev(i);
            net.exec(
                &role,
                &[
                    "ip",
                    "addr",
                    "add",
                    &format!("10.235.1.{}/24", 10 + i),
                    "dev",
                    "eth0",
                ],
            )?;
            net.no_offloads(&role, "eth0")?;
            net.exec(&role, &["ip", "link", "set", "eth0", "up"])?;
            net.exec(
                &role,
                &["ip", "route", "add", "10.235.0.0/24", "via", LAN_IP],
            )?;
        }
        for (role, dev) in [("lan", "cl0"), ("dl", "dla"), ("dl", "dlb"), ("sv", "sv0")] {
            net.no_offloads(role, dev)?;
            net.exec(role, &["ip", "link", "set", dev, "up"])?;
        }
        net.exec(
            "sv",
            &["ip", "route", "add", "10.235.1.0/24", "via", LAN_UPLINK_IP],
        )?;
        for dev in ["dla", "dlb"] {
            net.exec(
                "dl",
                &[
                    "sysctl",
                    "-qw",
                    &format!("net.ipv4.conf.{dev}.arp_ignore=8"),
                    &format!("net.ipv4.conf.{dev}.forwarding=0"),
                ],
            )?;
        }
        // The uplink, shaped at both ends; the delay line adds its delay.
        shape_link(
            |role, args| net.exec(role, args),
            [("lan", "cl0"), ("sv", "sv0")],
            Shape {
                rate_mbps: cell.rate_mbps,
                rtt_ms: cell.rtt_ms,
                loss_percent: cell.loss_percent,
            },
            &state.join("loss"),
        )?;
        let one_way = format!("{}", (cell.rtt_ms / 2).max(1));
        let limit = format!("{}", seconds * 10 + 300);
        net.spawn(
            "dl",
            &[
                &delayline.display().to_string(),
                "--a",
                "dla",
                "--b",
                "dlb",
                "--delay-ms",
                &one_way,
                "--max-seconds",
                &limit,
            ],
            &state.join("delayline.log"),
        )?;
        for i in 0..cell.devices {
            let port = format!("{}", 5201 + i);
            net.spawn(
                "sv",
                &["iperf3", "-s", "-B", SERVER_IP, "-p", &port],
                &state.join(format!("iperf3-server-{i}.log")),
            )?;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ok = (0..cell.devices).all(|i| {
                net.exec(&Net::dev(i), &["ping", "-c", "1", "-W", "1", SERVER_IP])
                    .is_ok()
            });
            if ok {
                break;
            }
            if Instant::now() > deadline {
                bail!("the site's uplink did not come up (is ping installed?)");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(net)
    }

    fn teardown(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.children.clear();
        let _ = run_bounded(
            Command::new("ip").args(["link", "del", &format!("fcs{}m", self.tag)]),
            Duration::from_secs(10),
        );
        for role in self.roles() {
            let _ = run_bounded(
                Command::new("ip").args(["netns", "del", &self.ns(&role)]),
                Duration::from_secs(10),
            );
            let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(self.ns(&role)));
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// The site figure and how it was made, from the recommendation.
#[derive(Debug, Default, Clone)]
struct Site {
    down: Option<f64>,
    up: Option<f64>,
    down_devices: u64,
    up_devices: u64,
    down_window_s: Option<f64>,
    up_window_s: Option<f64>,
    left_out: usize,
    /// Each device's own figures, for the late cell's check.
    device_down: Vec<f64>,
}

#[derive(Debug, Default, Clone)]
struct Row {
    site: Site,
    iperf_down: Option<f64>,
    iperf_up: Option<f64>,
    iperf_s: Option<f64>,
    seconds: f64,
    error: Option<String>,
}

fn utc(epoch: i64) -> Result<String> {
    let out = run_bounded(
        Command::new("date").args(["-u", "-d", &format!("@{epoch}"), "+%Y-%m-%dT%H:%M:%SZ"]),
        Duration::from_secs(5),
    )?;
    Ok(out.stdout.trim().to_owned())
}

fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The coordinated run through a real controller: enroll every device's agent, name one
/// moment, run every daemon once, read the site's figure back.
async fn fitcheck_site(net: &Net, cell: Cell, seconds: u64, state: &Path) -> Result<Site> {
    let agent = workspace_binary("fitcheck-agent")?;
    let controller = ControllerProcess::start_at(
        &state.join("controller"),
        None,
        Place {
            netns: Some(net.ns("sv")),
            listen: "0.0.0.0".to_owned(),
            reach: MGMT_SV_IP.to_owned(),
        },
    )?;
    let mut client = controller.client()?;
    client.login("admin", &controller.admin_password).await?;
    let profile = format!(
        "format = 1\nid = \"site-bench\"\nname = \"Site bench\"\nvendor = \"fitcheck\"\nreviewed = \"2026-11-30\"\nsources = [\"https://fitcheck.example/site-bench\"]\n\
         [[ports]]\nprotocol = \"tcp\"\nhost = \"{SERVER_IP}\"\nport = {}\n\
         [network]\ndownload_mbps_per_user = 1.0\nupload_mbps_per_user = 1.0\n",
        controller.port
    );
    let (s, p) = client
        .post(
            "/api/v1/profiles?name=site-bench.toml",
            profile,
            "application/toml",
        )
        .await?;
    if s != 201 {
        bail!("profile refused ({s}): {p}");
    }
    let secret = controller.secret()?;
    let base = format!("https://{SERVER_IP}:{}", controller.port);
    for i in 0..cell.devices {
        let st = state.join(format!("agent-{i}"));
        let f = run_bounded(
            without_proxies(&mut Command::new("ip"))
                .args(["netns", "exec", &net.ns(&Net::dev(i))])
                .arg(&agent)
                .args(["enroll", "--controller", &base, "--secret", &secret])
                .args(["--fingerprint", &controller.fingerprint])
                .args(["--label", "site=bench", "--state-dir"])
                .arg(&st),
            Duration::from_secs(60),
        )?;
        if !f.status.success() {
            bail!("enrolling device {i}: {}{}", f.stdout, f.stderr);
        }
    }
    let start = now_epoch() + 12;
    let start_at = utc(start)?;
    let (s, e) = client
        .post(
            "/api/v1/evaluations",
            json!({
                "title": "site bench",
                "profile": p["id"],
                "sites": ["bench"],
                "concurrent_users": {"bench": 1},
                "window_end": "2099-01-01T00:00:00Z",
                "bandwidth": {"start_at": start_at, "max_seconds": seconds},
            })
            .to_string(),
            "application/json",
        )
        .await?;
    if s != 201 {
        bail!("evaluation refused ({s}): {e}");
    }
    let evaluation = e["id"].as_str().context("no evaluation id")?.to_owned();
    let mut daemons = Vec::new();
    for i in 0..cell.devices {
        if cell.late && i + 1 == cell.devices {
            let at = std::time::UNIX_EPOCH + Duration::from_secs(start as u64) + LATE_BY;
            if let Ok(wait) = at.duration_since(std::time::SystemTime::now()) {
                tokio::time::sleep(wait).await;
            }
        }
        let child = without_proxies(&mut Command::new("ip"))
            .args(["netns", "exec", &net.ns(&Net::dev(i))])
            .arg(&agent)
            .args(["daemon", "--once", "--state-dir"])
            .arg(state.join(format!("agent-{i}")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(
                state.join(format!("daemon-{i}.log")),
            )?)
            .spawn()?;
        daemons.push(child);
    }
    let deadline = Instant::now() + Duration::from_secs(seconds * 4 + 180);
    for (i, mut d) in daemons.into_iter().enumerate() {
        loop {
            if let Some(status) = d.try_wait()? {
                if !status.success() {
                    bail!(
                        "device {i}'s daemon: {status}; see {}",
                        state.join(format!("daemon-{i}.log")).display()
                    );
                }
                break;
            }
            if Instant::now() > deadline {
                let _ = d.kill();
                let _ = d.wait();
                bail!("device {i}'s daemon did not finish in time");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let (_, rec) = client
        .get(&format!("/api/v1/evaluations/{evaluation}/recommendation"))
        .await?;
    let t = &rec["throughput"][0];
    let window = |d: &Value| d["common_window_ms"].as_f64().map(|w| w / 1000.0);
    let (_, reports) = client
        .get(&format!("/api/v1/evaluations/{evaluation}/reports"))
        .await?;
    let mut device_down = Vec::new();
    for r in reports.as_array().cloned().unwrap_or_default() {
        let (_, body) = client
            .get(&format!(
                "/api/v1/reports/{}",
                r["report_id"].as_str().unwrap_or_default()
            ))
            .await?;
        if let Some(d) = body["results"].as_array().and_then(|a| {
            a.iter()
                .find(|x| x["check"] == "bandwidth")
                .and_then(|b| b["download_mbps"].as_f64())
        }) {
            device_down.push(d);
        }
    }
    Ok(Site {
        down: t["download_measured_mbps"].as_f64(),
        up: t["upload_measured_mbps"].as_f64(),
        down_devices: t["download"]["devices"].as_u64().unwrap_or(0),
        up_devices: t["upload"]["devices"].as_u64().unwrap_or(0),
        down_window_s: window(&t["download"]),
        up_window_s: window(&t["upload"]),
        left_out: t["download"]["left_out"]
            .as_array()
            .map_or(0, Vec::len)
            .max(t["upload"]["left_out"].as_array().map_or(0, Vec::len)),
        device_down,
    })
}

/// Every device runs `iperf3 -P 4` at once, against its own server; the receivers' rates
/// summed, and the longest receiver's duration.
fn iperf_site(net: &Net, cell: Cell, seconds: u64, reverse: bool) -> Option<(f64, f64)> {
    let t = seconds.to_string();
    let children: Vec<_> = (0..cell.devices)
        .filter_map(|i| {
            let port = format!("{}", 5201 + i);
            let mut args = vec![
                "netns".to_owned(),
                "exec".to_owned(),
                net.ns(&Net::dev(i)),
                "iperf3".to_owned(),
                "-c".to_owned(),
                SERVER_IP.to_owned(),
                "-p".to_owned(),
                port,
                "-P".to_owned(),
                "4".to_owned(),
                "-t".to_owned(),
                t.clone(),
                "-J".to_owned(),
            ];
            if reverse {
                args.push("-R".to_owned());
            }
            Command::new("ip")
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .ok()
        })
        .collect();
    let mut total = 0.0;
    let mut longest: f64 = 0.0;
    for c in children {
        let out = c.wait_with_output().ok()?;
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        total += v["end"]["sum_received"]["bits_per_second"].as_f64()? / 1e6;
        longest = longest.max(v["end"]["sum_received"]["seconds"].as_f64().unwrap_or(0.0));
    }
    Some((total, longest))
}

fn f(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.3}", a / b),
        _ => "—".to_owned(),
    }
}

fn remove_stale() {
    let Ok(list) = must(&["ip", "netns", "list"]) else {
        return;
    };
    for line in list.lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        let Some(pid) = name
            .strip_prefix("fcs")
            .and_then(|r| r.split(['-', 'c']).next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = must(&["ip", "netns", "del", name]);
            let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(name));
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let seconds: u64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    remove_stale();
    let delayline = workspace_binary("fitlab-delayline")?;
    workspace_binary("fitcheck-controller")?;
    workspace_binary("fitcheck-agent")?;
    let plain = |rate_mbps, devices| Cell {
        rate_mbps,
        rtt_ms: 2,
        loss_percent: 0.0,
        devices,
        late: false,
    };
    let mut cells = Vec::new();
    if quick {
        cells.extend([plain(20, 1), plain(20, 2)]);
    } else {
        for rate in [20, 50, 200] {
            for n in [1, 2, 4, 8] {
                cells.push(plain(rate, n));
            }
        }
        cells.push(Cell {
            rtt_ms: 40,
            loss_percent: 1.0,
            ..plain(20, 4)
        });
    }
    cells.push(Cell {
        late: true,
        ..plain(20, 4)
    });

    println!(
        "Site throughput (Mbit/s): N devices behind one tbf-shaped link, coordinated through a real controller ({seconds} s per direction), against the goodput ceiling (rate x 1448/1514) and N concurrent `iperf3 -P 4` ({seconds} s each, receivers summed).\n"
    );
    println!(
        " rate  rtt loss  N      |   ceil |  site dn  dn/ce  dn/ipf  ipf dn |  site up  up/ce  up/ipf  ipf up | dev dn/up  win dn/up s  out | fc s  ipf s"
    );
    let mut rows = Vec::new();
    for (n, cell) in cells.into_iter().enumerate() {
        let started = Instant::now();
        let state = tempfile::Builder::new().prefix("site-bench-").tempdir()?;
        let mut row = Row::default();
        match Net::build(n, cell, &delayline, seconds, state.path()) {
            Ok(net) => {
                let t0 = Instant::now();
                match fitcheck_site(&net, cell, seconds, state.path()).await {
                    Ok(site) => row.site = site,
                    Err(e) => row.error = Some(format!("{e:#}")),
                }
                row.seconds = t0.elapsed().as_secs_f64();
                let down = iperf_site(&net, cell, seconds, true);
                let up = iperf_site(&net, cell, seconds, false);
                row.iperf_down = down.map(|d| d.0);
                row.iperf_up = up.map(|u| u.0);
                row.iperf_s = match (down, up) {
                    (Some(d), Some(u)) => Some(d.1.max(u.1)),
                    _ => None,
                };
            }
            Err(e) => row.error = Some(format!("{e:#}")),
        }
        let ceil = ceiling(cell.rate_mbps);
        let s = &row.site;
        println!(
            "{:>5} {:>4} {:>4} {:>2} {:<5} | {:>6.1} | {:>8} {:>6} {:>7} {:>7} | {:>8} {:>6} {:>7} {:>7} | {:>4}/{:<4} {:>5}/{:<5} {:>4} | {:>4.0} {:>5}{}",
            cell.rate_mbps,
            cell.rtt_ms,
            cell.loss_percent,
            cell.devices,
            if cell.late { "late" } else { "" },
            ceil,
            f(s.down),
            ratio(s.down, Some(ceil)),
            ratio(s.down, row.iperf_down),
            f(row.iperf_down),
            f(s.up),
            ratio(s.up, Some(ceil)),
            ratio(s.up, row.iperf_up),
            f(row.iperf_up),
            s.down_devices,
            s.up_devices,
            f(s.down_window_s),
            f(s.up_window_s),
            s.left_out,
            row.seconds,
            f(row.iperf_s),
            row.error
                .as_ref()
                .map_or(String::new(), |e| format!("  ERROR: {e}")),
        );
        eprintln!(
            "  (cell took {:.0} s; devices' own downloads: {:?})",
            started.elapsed().as_secs_f64(),
            s.device_down
        );
        rows.push((cell, row));
    }

    // Summary against the targets: within 5 % of the ceiling, never above it by more than 2 %;
    // the late device left out and not raising the figure.
    let mut worst_below: f64 = 0.0;
    let mut worst_above: f64 = 0.0;
    for (cell, row) in &rows {
        for v in [row.site.down, row.site.up].into_iter().flatten() {
            let r = v / ceiling(cell.rate_mbps) - 1.0;
            worst_below = worst_below.min(r);
            worst_above = worst_above.max(r);
        }
    }
    println!(
        "\nworst below the ceiling: {:.1} % (target ≤ 5 %); worst above: {:.1} % (target ≤ 2 %)",
        -worst_below * 100.0,
        worst_above * 100.0
    );
    for (cell, row) in rows.iter().filter(|(c, _)| c.late) {
        println!(
            "late device: {} left out, site download {} Mbit/s over {} device(s) (ceiling {:.1}): {}",
            row.site.left_out,
            f(row.site.down),
            row.site.down_devices,
            ceiling(cell.rate_mbps),
            if row.site.left_out >= 1
                && row
                    .site
                    .down
                    .is_some_and(|d| d <= ceiling(cell.rate_mbps) * 1.02)
            {
                "left out, figure not raised"
            } else {
                "NOT as expected"
            }
        );
    }
    Ok(())
}
