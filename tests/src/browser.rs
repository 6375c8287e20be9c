//! The browser lab, shared by the browser agent's test (`tests/browser_agent.rs`) and its
//! benchmark (`browser-bench`): Debian's headless Chromium in a "dev" namespace, configured
//! through Chromium's policy files as a district configures a student's browser (the agent
//! force-installed from the controller's update manifest, its managed storage), and a "net"
//! namespace playing the district resolver with a DNS filter (dnsmasq), the product's web server
//! and the filters' block servers (nginx), the proxy (squid), the product's STUN server (coturn)
//! behind the district NAT, the firewall (nftables) and the controller, which this process
//! reaches over a management link.
//!
//! Traffic goes only to the two namespaces it creates (10.77.0.0/24) and to the controller over
//! the management link (10.77.9.0/30, or another that is asked for); nothing is routed further.
//! Everything is torn down by [`Lab`]'s `Drop`.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::bench::{Shape, shape_link};
use crate::controller::{Client, ControllerProcess, Place};
use crate::lab::{self, Lab, Tool};

pub const DEV_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
/// The resolver, the proxy and the controller as devices reach it.
pub const NET_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
/// chromedriver's port on the loopback of "dev", where nothing else listens.
const WEBDRIVER_PORT: u16 = 9515;
pub const APP_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);
pub const FILTER_BLOCK_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 20);
pub const STUN_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 30);
/// The DNS filter's block server.
pub const SINKHOLE_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 66);
/// The district NAT's address, as the STUN server sees the device.
pub const NAT_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 99);
/// The management link's third octet when none is asked for: `10.77.9.0/30`.
const MGMT_SUBNET: u8 = 9;
pub const STUN_PORT: u16 = 3478;
pub const DROPPED_STUN_PORT: u16 = 3479;
pub const SQUID_PORT: u16 = 3128;
pub const SITE: &str = "lincoln";
/// The filter extension written for the test (`tests/data/browser-filter`; its id follows from
/// the key in its manifest).
pub const FILTER_ID: &str = "igcdneocfhinlcbcdmhhnpmpldmjeiph";

/// The district's own signature file: the test filter's block host and extension id, and the
/// DNS filter's block server.
const DISTRICT_SIGNATURES: &str = r#"format = 1
version = "lab"

[[signature]]
id = "lab-filter-block-host"
vendor = "Lab Filter"
kind = "block_host"
source = "https://district.example/filter"
hosts = ["blocked.filter.test"]

[[signature]]
id = "lab-filter-extension"
vendor = "Lab Filter"
kind = "filter_extension"
source = "https://district.example/filter"
extension_ids = ["@FILTER_ID@"]

[[signature]]
id = "lab-dns-filter"
vendor = "Lab DNS Filter"
kind = "sinkhole_address"
source = "https://district.example/dns-filter"
addresses = ["@SINKHOLE_IP@"]
"#;

/// What the browser lab needs beyond [`lab::BASE_TOOLS`].
pub const TOOLS: [Tool; 5] = [
    Tool {
        path: "/usr/bin/chromium",
        package: "chromium",
    },
    Tool {
        path: "/usr/bin/chromedriver",
        package: "chromium-driver",
    },
    Tool {
        path: "/usr/sbin/squid",
        package: "squid-openssl",
    },
    Tool {
        path: "/usr/bin/openssl",
        package: "openssl",
    },
    Tool {
        path: "/usr/bin/node",
        package: "nodejs",
    },
];

fn vars(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("DIR", dir.display().to_string()),
        ("SQUID_DIR", dir.join("squid").display().to_string()),
        ("DEV_IP", DEV_IP.to_string()),
        ("NET_IP", NET_IP.to_string()),
        ("APP_IP", APP_IP.to_string()),
        ("FILTER_BLOCK_IP", FILTER_BLOCK_IP.to_string()),
        ("STUN_IP", STUN_IP.to_string()),
        ("SINKHOLE_IP", SINKHOLE_IP.to_string()),
        ("NAT_IP", NAT_IP.to_string()),
        ("STUN_PORT", STUN_PORT.to_string()),
        ("DROPPED_STUN_PORT", DROPPED_STUN_PORT.to_string()),
        ("SQUID_PORT", SQUID_PORT.to_string()),
        ("FILTER_ID", FILTER_ID.to_owned()),
    ]
}

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The filter extension written for the test.
pub fn filter_extension() -> PathBuf {
    repo().join("tests/data/browser-filter")
}

/// A filter extension no catalog lists: it replaces a listed site's navigation with a page of
/// its choosing, with no HTTP redirect.
pub fn redirector_extension() -> PathBuf {
    repo().join("tests/data/browser-redirector")
}

/// The running lab: namespaces, servers, the controller serving the packed agent.
#[derive(Debug)]
pub struct BrowserLab {
    pub lab: Lab,
    pub dir: tempfile::TempDir,
    pub controller: ControllerProcess,
    /// The controller as devices reach it (`https://10.77.0.1:PORT`).
    pub base: String,
    /// The packed agent's extension id.
    pub agent_id: String,
    /// What `--ignore-certificate-errors-spki-list` takes for the controller's certificate.
    pub spki: String,
    pub secret: String,
    /// The link's veth ends: ("dev", name), ("net", name).
    pub link: [(String, String); 2],
}

impl BrowserLab {
    /// Builds the namespaces and servers, shapes the link when asked, starts the controller
    /// (district signatures, the packed agent) and packs the agent for it.
    pub fn start(shape: Option<Shape>) -> Result<BrowserLab> {
        Self::start_polling(shape, None)
    }

    /// [`BrowserLab::start`], with the controller telling agents to poll every `poll_s`
    /// seconds (the tests' 5 s when `None`).
    pub fn start_polling(shape: Option<Shape>, poll_s: Option<u32>) -> Result<BrowserLab> {
        Self::start_on(shape, poll_s, MGMT_SUBNET)
    }

    /// [`BrowserLab::start_polling`], with the management link on `10.77.<mgmt>.0/30`: its
    /// host end is in this namespace, so two labs running at once (two test binaries) each
    /// need their own.
    pub fn start_on(shape: Option<Shape>, poll_s: Option<u32>, mgmt: u8) -> Result<BrowserLab> {
        lab::preflight(&lab::BASE_TOOLS);
        lab::preflight(&TOOLS);
        let dir = tempfile::Builder::new()
            .prefix("fitbrowser-")
            .tempdir()
            .context("creating the lab's directory")?;
        let d = dir.path().to_path_buf();
        let delay_ms = shape.map_or(0, |s| s.rtt_ms);
        let (lab, link) = build_lab(&d, delay_ms, mgmt)?;
        if let Some(shape) = shape {
            let ends = [
                (link[0].0.as_str(), link[0].1.as_str()),
                (link[1].0.as_str(), link[1].1.as_str()),
            ];
            shape_link(|ns, args| lab.exec(ns, args), ends, shape, &d.join("shape"))?;
        }
        let signatures = lab::write_config(
            &d,
            "district-signatures.toml",
            DISTRICT_SIGNATURES,
            &vars(&d),
        )?;
        let dist = d.join("browser-agent-dist");
        std::fs::create_dir_all(&dist)?;
        let controller_dir = d.join("controller");
        let mut serve_args = vec![
            "--signatures".to_owned(),
            signatures.display().to_string(),
            "--browser-agent".to_owned(),
            dist.display().to_string(),
        ];
        if let Some(p) = poll_s {
            serve_args.extend([
                "--poll-interval".to_owned(),
                p.to_string(),
                "--browser-poll-interval".to_owned(),
                p.to_string(),
            ]);
        }
        let serve_args: Vec<&str> = serve_args.iter().map(String::as_str).collect();
        let controller = ControllerProcess::start_with(
            &controller_dir,
            None,
            Place {
                netns: Some(lab.net.clone()),
                listen: "0.0.0.0".to_owned(),
                reach: format!("10.77.{mgmt}.2"),
            },
            &serve_args,
        )?;
        let base = format!("https://{NET_IP}:{}", controller.port);
        let build = lab::run_bounded(
            Command::new(repo().join("scripts/build-browser-agent"))
                .arg("--key")
                .arg(repo().join("tests/data/browser-agent-dev.pem"))
                .args(["--controller", &base, "--out"])
                .arg(&dist),
            Duration::from_secs(120),
        )?;
        if !build.status.success() {
            bail!("build-browser-agent: {}{}", build.stdout, build.stderr);
        }
        let agent_id = build
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("extension id: "))
            .and_then(|l| l.split_whitespace().next())
            .context("build-browser-agent named no extension id")?
            .to_owned();
        let secret = controller.secret()?;
        let spki = spki_hash(&controller_dir.join("tls/cert.pem"))?;
        // The namespaces' names are the lab's; the link's ends as shape_link wants them.
        let link = [
            (lab.dev.clone(), link[0].1.clone()),
            (lab.net.clone(), link[1].1.clone()),
        ];
        Ok(BrowserLab {
            lab,
            dir,
            controller,
            base,
            agent_id,
            spki,
            secret,
            link,
        })
    }

    /// The lab's directory: configuration, logs, browser profiles.
    pub fn d(&self) -> &Path {
        self.dir.path()
    }

    /// The policy that force-installs the agent from the controller and configures it (its
    /// managed storage), with `extra` policies added (`URLBlocklist`, `ProxySettings`, …).
    pub fn policy(&self, extra: &Value) -> Value {
        let mut policy = json!({
            "ExtensionInstallForcelist": [format!("{};{}/browser-agent/update.xml", self.agent_id, self.base)],
            "3rdparty": {"extensions": {self.agent_id.clone(): {
                "controller_url": self.base,
                "enrollment_secret": self.secret,
                "labels": {"site": SITE},
            }}},
        });
        if let (Some(p), Some(e)) = (policy.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        policy
    }

    /// Writes Chromium's policy for the browser in "dev": `ip netns exec` mounts
    /// `/etc/netns/<dev>/chromium` over `/etc/chromium` there (the lab removes it on tear-down).
    pub fn write_policy(&self, policy: &Value) -> Result<()> {
        let dir = Path::new("/etc/netns")
            .join(&self.lab.dev)
            .join("chromium/policies/managed");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(
            dir.join("fitcheck-lab.json"),
            serde_json::to_string_pretty(policy)?,
        )?;
        Ok(())
    }

    /// Starts headless Chromium in "dev" with `profile` as its user data directory and the
    /// unpacked `extensions` (the agent comes from the policy); returns the browser's PID.
    pub fn start_browser(
        &mut self,
        profile: &Path,
        log: &str,
        extensions: &[PathBuf],
    ) -> Result<u32> {
        let d = self.d().to_path_buf();
        let mut args = home(&d).to_vec();
        args.push("/usr/bin/chromium".to_owned());
        args.extend(self.chromium_flags(profile, extensions)?);
        args.push("about:blank".to_owned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let dev = self.lab.dev.clone();
        self.lab.spawn("chromium", &dev, &args, &d.join(log))
    }

    /// What every Chromium of the lab runs with: headless, `profile` as the user data directory,
    /// the controller's key pinned (devices trust it as a district's own CA makes them), and the
    /// unpacked `extensions` loaded (Debian's Chromium still loads them from the command line
    /// once `DisableLoadExtensionCommandLineSwitch` is off). Chromium writes into an unpacked
    /// extension's directory (`_metadata`), so it loads copies, made once per lab.
    fn chromium_flags(&self, profile: &Path, extensions: &[PathBuf]) -> Result<Vec<String>> {
        let mut flags = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--no-first-run".to_owned(),
            "--use-angle=swiftshader".to_owned(),
            "--enable-unsafe-swiftshader".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            format!("--ignore-certificate-errors-spki-list={}", self.spki),
            "--disable-features=DisableLoadExtensionCommandLineSwitch".to_owned(),
        ];
        if !extensions.is_empty() {
            let mut copies = Vec::new();
            for (i, e) in extensions.iter().enumerate() {
                let copy = self.d().join(format!("extension-{i}"));
                if !copy.exists() {
                    copy_dir(e, &copy)?;
                }
                copies.push(copy.display().to_string());
            }
            flags.push(format!("--load-extension={}", copies.join(",")));
        }
        Ok(flags)
    }

    /// Screenshots of what each of `urls` shows in a fresh browser of "dev" with the policy in
    /// force and the unpacked `extensions`, error pages included: chromedriver in "dev" drives
    /// it, through `tests/lab/screenshots.mjs` (node), since nothing outside the namespace can
    /// reach its loopback. Writes `out/http-<i>.png`; returns, for each URL, the page it ended
    /// on, the navigation's error and whether a screenshot was written.
    pub fn screenshots(
        &mut self,
        urls: &[&str],
        out: &Path,
        profile: &Path,
        extensions: &[PathBuf],
    ) -> Result<Value> {
        let d = self.d().to_path_buf();
        let flags = self.chromium_flags(profile, extensions)?;
        let dev = self.lab.dev.clone();
        let [env, home] = home(&d);
        let driver = self.lab.spawn(
            "chromedriver",
            &dev,
            &[
                &env,
                &home,
                "/usr/bin/chromedriver",
                &format!("--port={WEBDRIVER_PORT}"),
                "--allowed-ips=127.0.0.1",
                "--log-level=DEBUG",
            ],
            &d.join("chromedriver.log"),
        )?;
        let script = repo().join("tests/lab/screenshots.mjs");
        let run = lab::run_bounded(
            Command::new("ip")
                .args(["netns", "exec", &dev, "node"])
                .arg(&script)
                .arg(format!("http://127.0.0.1:{WEBDRIVER_PORT}"))
                .arg(out)
                .arg(serde_json::to_string(&flags)?)
                .args(urls),
            Duration::from_secs(150),
        );
        self.lab.kill(driver)?;
        let run = run?;
        if !run.status.success() {
            let log = std::fs::read_to_string(d.join("chromedriver.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            bail!(
                "screenshots.mjs ({}): {}{}\nchromedriver's log ends:\n{}",
                run.status,
                run.stdout,
                run.stderr,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        serde_json::from_str(run.stdout.trim())
            .with_context(|| format!("screenshots.mjs printed {:?}", run.stdout))
    }

    /// Enrolls the native agent in "dev" at the same site and runs it once (deliver, poll,
    /// run, deliver): the network's view of the same evaluations.
    pub fn native_agent(&self) -> Result<()> {
        let agent = lab::agent_binary()?;
        let d = self.d();
        let state = d.join("native-agent");
        let signatures = d.join("district-signatures.toml");
        let dev = &self.lab.dev;
        let run = |args: &[&str], limit: u64| -> Result<()> {
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", dev]).arg(&agent).args(args);
            cmd.arg("--state-dir").arg(&state);
            let f = lab::run_bounded(lab::without_proxies(&mut cmd), Duration::from_secs(limit))?;
            if !f.status.success() {
                bail!("fitcheck-agent {args:?}: {}{}", f.stdout, f.stderr);
            }
            Ok(())
        };
        if !state.join("enrollment.json").exists() {
            run(
                &[
                    "enroll",
                    "--controller",
                    &self.base,
                    "--secret",
                    &self.secret,
                    "--fingerprint",
                    &self.controller.fingerprint,
                    "--label",
                    &format!("site={SITE}"),
                ],
                60,
            )?;
        }
        run(
            &[
                "daemon",
                "--once",
                "--signatures",
                &signatures.display().to_string(),
            ],
            180,
        )
    }
}

/// What starts every Chromium (and chromedriver) of the lab: a home in the lab's directory.
fn home(d: &Path) -> [String; 2] {
    [
        "/usr/bin/env".to_owned(),
        format!("HOME={}", d.join("home").display()),
    ]
}

/// The namespaces, their link and addresses, the firewall and every server but the controller;
/// returns the link's ends. With `delay_ms`, the link between the device and the network runs
/// through a delay line in a namespace between them, which holds each frame half of `delay_ms`
/// each way (the kernel here has no netem).
fn build_lab(d: &Path, delay_ms: u32, mgmt: u8) -> Result<(Lab, [(String, String); 2])> {
    let roles: &[&str] = if delay_ms > 0 {
        &["dev", "dl", "net"]
    } else {
        &["dev", "net"]
    };
    let mut lab = Lab::with_namespaces(roles)?;
    let (dev, net) = (lab.dev.clone(), lab.net.clone());
    let tag = format!("{}", std::process::id() % 100_000);
    let (dev_if, net_if) = (format!("fb{tag}d"), format!("fb{tag}n"));
    if delay_ms > 0 {
        delay_line(&mut lab, d, (&dev, &dev_if), (&net, &net_if), delay_ms)?;
    } else {
        lab.veth((&dev, &dev_if), (&net, &net_if))?;
    }
    lab.addr(&dev, &dev_if, &format!("{DEV_IP}/24"))?;
    for ip in [NET_IP, APP_IP, FILTER_BLOCK_IP, STUN_IP, SINKHOLE_IP] {
        lab.addr(&net, &net_if, &format!("{ip}/24"))?;
    }
    // The management link: this process reaches the controller in "net" over it. Both ends are
    // created where they live; deleting "net" removes the pair.
    let (mgmt_host, mgmt_net) = (format!("fb{tag}m"), format!("fb{tag}g"));
    lab::must(&[
        "ip", "link", "add", &mgmt_host, "type", "veth", "peer", "name", &mgmt_net, "netns", &net,
    ])?;
    lab::must(&[
        "ip",
        "addr",
        "add",
        &format!("10.77.{mgmt}.1/30"),
        "dev",
        &mgmt_host,
    ])?;
    lab::must(&["ip", "link", "set", &mgmt_host, "up"])?;
    lab.addr(&net, &mgmt_net, &format!("10.77.{mgmt}.2/30"))?;
    lab.exec(&net, &["ip", "link", "set", &mgmt_net, "up"])?;
    lab.set_resolver(&dev, NET_IP)?;
    std::fs::create_dir_all(d.join("home"))?;

    let config = |name: &str, template: &str| lab::write_config(d, name, template, &vars(d));
    let nft = config("net.nft", include_str!("../lab/browser-net.nft.in"))?;
    lab.load_nft(&net, &nft)?;
    let dnsmasq = config(
        "dnsmasq.conf",
        include_str!("../lab/browser-dnsmasq.conf.in"),
    )?;
    lab.spawn_dnsmasq("dnsmasq", &net, &dnsmasq, &d.join("dnsmasq.out"))?;
    let nginx = config("nginx.conf", include_str!("../lab/browser-nginx.conf.in"))?;
    lab.spawn_nginx(
        "nginx",
        &net,
        d,
        &nginx,
        &d.join("nginx-startup.log"),
        &d.join("nginx.out"),
    )?;
    lab.spawn_stun(&net, &[STUN_IP], STUN_PORT, d)?;
    let squid_dir = d.join("squid");
    std::fs::create_dir_all(&squid_dir)?;
    let squid = config(
        "squid/squid.conf",
        include_str!("../lab/browser-squid.conf.in"),
    )?;
    lab::must(&[
        "chown",
        "-R",
        "proxy:proxy",
        &squid_dir.display().to_string(),
    ])?;
    lab.spawn_as(
        "squid",
        &net,
        Some("proxy"),
        &["/usr/sbin/squid", "-N", "-f", &squid.display().to_string()],
        &d.join("squid.out"),
    )?;
    let want = [
        ("udp", format!("{NET_IP}:53")),
        ("tcp", format!("{APP_IP}:80")),
        ("tcp", format!("{FILTER_BLOCK_IP}:80")),
        ("tcp", format!("{SINKHOLE_IP}:80")),
        ("udp", format!("{STUN_IP}:{STUN_PORT}")),
        ("tcp", format!("{NET_IP}:{SQUID_PORT}")),
    ];
    lab.wait_listening(&net, &want, Duration::from_secs(120))?;
    Ok((lab, [(dev, dev_if), (net, net_if)]))
}

/// Joins `dev` and `net` through the lab's "dl" namespace, where a delay line holds each frame
/// half of `rtt_ms` each way.
fn delay_line(
    lab: &mut Lab,
    d: &Path,
    dev: (&str, &str),
    net: (&str, &str),
    rtt_ms: u32,
) -> Result<()> {
    let dl = lab.ns("dl")?;
    let ports = ("dla", "dlb");
    lab.veth(dev, (&dl, ports.0))?;
    lab.veth((&dl, ports.1), net)?;
    lab.delay_line(
        &lab::workspace_binary("fitlab-delayline")?,
        &dl,
        ports,
        &[dev, net],
        u64::from(rtt_ms / 2),
        &d.join("delayline.out"),
    )?;
    Ok(())
}

/// The requests the web servers (the product, the block hosts) of the browser lab in `d`
/// logged, one access-log line each, that `matches`.
pub fn served(d: &Path, matches: impl Fn(&str) -> bool) -> Vec<String> {
    std::fs::read_to_string(d.join("access.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| matches(l))
        .map(str::to_owned)
        .collect()
}

/// Copies the directory `from`, and everything in it, to `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target)
                .with_context(|| format!("copying {}", e.path().display()))?;
        }
    }
    Ok(())
}

/// base64 of the SHA-256 of the certificate's public key.
fn spki_hash(cert: &Path) -> Result<String> {
    let script = format!(
        "openssl x509 -in '{}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
        cert.display()
    );
    let f = lab::run_bounded(
        Command::new("sh").args(["-c", &script]),
        Duration::from_secs(20),
    )?;
    if !f.status.success() {
        bail!("the controller certificate's key hash: {}", f.stderr);
    }
    Ok(f.stdout.trim().to_owned())
}

/// Polls `probe` every half second until it gives a value; fails after `limit`.
pub async fn wait_until<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return Ok(v);
        }
        if start.elapsed() > limit {
            bail!("{what}: not within {} s", limit.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The reports stored for `evaluation`, bodies and all.
pub async fn reports(client: &Client, evaluation: &str) -> Result<Vec<Value>> {
    let (s, list) = client
        .get(&format!("/api/v1/evaluations/{evaluation}/reports"))
        .await?;
    if s != 200 {
        bail!("the reports of {evaluation}: {s} {list}");
    }
    let mut out = Vec::new();
    for info in list.as_array().cloned().unwrap_or_default() {
        let id = info["report_id"].as_str().unwrap_or_default();
        let (s, body) = client.get(&format!("/api/v1/reports/{id}")).await?;
        if s != 200 {
            bail!("report {id}: {s} {body}");
        }
        out.push(body);
    }
    Ok(out)
}

/// A counter from the controller's metrics: the sum over the series of `name` whose labels hold
/// every one of `labels` (`route="/api/agent/v1/reports"`). The counters start at zero with
/// each start of the controller.
pub async fn metric(client: &Client, name: &str, labels: &[&str]) -> Result<u64> {
    let (s, text) = client.get_text("/metrics").await?;
    if s != 200 {
        bail!("/metrics: {s} {text}");
    }
    let mut sum = 0.0;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with('{') || rest.starts_with(' '))
            || !labels.iter().all(|l| rest.contains(l))
        {
            continue;
        }
        let value = rest.rsplit(' ').next().unwrap_or_default();
        sum += value
            .parse::<f64>()
            .with_context(|| format!("metric line {line:?}"))?;
    }
    Ok(sum as u64)
}

/// The browser agent's stored report for `evaluation`, once there is one.
pub async fn browser_report(client: &Client, evaluation: &str, limit: Duration) -> Result<Value> {
    wait_until("the browser agent's report", limit, || async {
        reports(client, evaluation)
            .await
            .ok()?
            .into_iter()
            .find(|r| r["agent"]["kind"] == "browser")
    })
    .await
}

/// Uploads a profile; its id.
pub async fn upload(client: &Client, name: &str, profile: &str) -> Result<String> {
    let (s, p) = client
        .post(
            &format!("/api/v1/profiles?name={name}"),
            profile.to_owned(),
            "application/toml",
        )
        .await?;
    if s != 201 {
        bail!("uploading {name}: {s} {p}");
    }
    Ok(p["id"].as_str().unwrap_or_default().to_owned())
}

/// An evaluation of `profile` at the lab's site (one device enough), with `bandwidth` when not
/// null; its id.
pub async fn evaluation(
    client: &Client,
    title: &str,
    profile: &str,
    bandwidth: Value,
) -> Result<String> {
    let mut spec = json!({
        "title": title,
        "profile": profile,
        "sites": [SITE],
        "concurrent_users": {SITE: 20},
        "window_end": "2099-01-01T00:00:00Z",
        "min_devices_per_site": 1,
    });
    if !bandwidth.is_null() {
        spec["bandwidth"] = bandwidth;
    }
    let (s, e) = client
        .post("/api/v1/evaluations", spec.to_string(), "application/json")
        .await?;
    if s != 201 {
        bail!("creating the evaluation {title:?}: {s} {e}");
    }
    Ok(e["id"].as_str().unwrap_or_default().to_owned())
}

/// The result for `requirement` in a report.
pub fn result<'a>(report: &'a Value, requirement: &str) -> Option<&'a Value> {
    report["results"]
        .as_array()?
        .iter()
        .find(|r| r["requirement"] == requirement)
}

/// The PIDs of the Chromium processes under `browser` that run extensions
/// (`--extension-process`), with the browser's own.
pub fn browser_processes(browser: u32) -> (Vec<u32>, Vec<u32>) {
    let mut all = vec![browser];
    let mut extensions = Vec::new();
    let mut frontier = vec![browser];
    // A process tree is shallow; bounded by the processes there are.
    for _ in 0..64 {
        let Some(parent) = frontier.pop() else { break };
        let Ok(children) =
            std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
        else {
            continue;
        };
        for child in children
            .split_whitespace()
            .filter_map(|c| c.parse::<u32>().ok())
        {
            all.push(child);
            frontier.push(child);
            let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains("--extension-process") {
                extensions.push(child);
            }
        }
    }
    (all, extensions)
}
