//! The network-namespace lab: namespaces joined by veth pairs (two for `tests/lab.rs`, three
//! for `tests/filters.rs`), processes started inside them (as root or as a given user) and
//! always ended, the servers every lab runs (dnsmasq, nginx, coturn, nftables), a lab PKI,
//! configuration templates, and commands with a time limit; and the agent as every test runs
//! it ([`AgentSetup`], in a lab's [`World`] or on loopback).
//!
//! Rules every lab test follows: traffic goes only to loopback or to addresses inside
//! namespaces the test created; every wait is bounded; a test ends only the processes it
//! started, by PID; set-up removes leftovers with the same names first; tear-down runs from
//! `Drop`, so also when a test panics.

use std::fs::File;
use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Set to `1` when building the tests to skip the lab (it needs root, network namespaces and
/// some Debian packages): its tests are then marked ignored, and the runner counts them as
/// skipped.
pub const SKIP_ENV: &str = "FITCHECK_SKIP_LAB";
/// Set to a path to run that agent binary instead of building the workspace's.
pub const AGENT_BIN_ENV: &str = "FITCHECK_AGENT_BIN";

/// util-linux's `setpriv`, to set the parent-death signal of the servers the lab starts.
pub const SETPRIV: &str = "/usr/bin/setpriv";
/// Limit for one set-up command (`ip`, `nft`, `ss`).
const COMMAND_LIMIT: Duration = Duration::from_secs(20);
/// How often a wait polls.
const POLL: Duration = Duration::from_millis(50);
/// How long a process gets to exit after SIGTERM before it is killed.
const TERM_GRACE: Duration = Duration::from_secs(2);

/// A program the lab needs, and the Debian package that installs it.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    pub path: &'static str,
    pub package: &'static str,
}

/// Checks that the lab can run here: panics with a clear message when it is not root or a tool
/// is missing. A lab test never passes without running; to skip the lab, build the tests with
/// `FITCHECK_SKIP_LAB=1`, which marks them ignored.
pub fn preflight(tools: &[Tool]) {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if uid.as_deref() != Some("0") {
        panic!(
            "the namespace lab needs root (it creates network namespaces); `id -u` says {uid:?}. \
             Run as root, or set {SKIP_ENV}=1 to skip it (counted as skipped)."
        );
    }
    let missing: Vec<String> = tools
        .iter()
        .filter(|t| !Path::new(t.path).exists())
        .map(|t| format!("{} (apt-get install {})", t.path, t.package))
        .collect();
    if !missing.is_empty() {
        panic!(
            "the namespace lab needs: {}; or set {SKIP_ENV}=1 to skip it (counted as skipped)",
            missing.join(", ")
        );
    }
}

/// Where lab tests keep a copy of every report and printed verdict, when set.
pub const REPORTS_ENV: &str = "FITCHECK_LAB_REPORTS";

/// One finished agent run in a lab.
#[derive(Debug)]
pub struct AgentRun {
    pub name: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The report the agent wrote.
    pub report: serde_json::Value,
    pub seconds: f64,
}

/// Runs an agent command a lab prepared (it writes its report to `out`), prints what it said,
/// and reads the report, failing with the agent's stderr when there is none. Keeps a copy as
/// `<copy_as>.json` and `.stdout` under `$FITCHECK_LAB_REPORTS` when that is set.
pub fn agent_run(
    cmd: &mut Command,
    limit: Duration,
    name: &str,
    out: &Path,
    copy_as: &str,
) -> Result<AgentRun> {
    let f = run_bounded(cmd, limit)?;
    eprintln!(
        "lab: agent run {name}: exit {:?} in {:.1} s\n--- stdout ---\n{}--- stderr ---\n{}",
        f.status.code(),
        f.elapsed.as_secs_f64(),
        f.stdout,
        f.stderr
    );
    let text = std::fs::read_to_string(out).with_context(|| {
        format!(
            "the agent wrote no report to {}; exit {:?}, stderr:\n{}",
            out.display(),
            f.status.code(),
            f.stderr
        )
    })?;
    if let Ok(keep) = std::env::var(REPORTS_ENV) {
        let keep = Path::new(&keep);
        std::fs::create_dir_all(keep)?;
        std::fs::copy(out, keep.join(format!("{copy_as}.json")))?;
        std::fs::write(keep.join(format!("{copy_as}.stdout")), &f.stdout)?;
    }
    Ok(AgentRun {
        name: name.to_owned(),
        code: f.status.code(),
        stdout: f.stdout,
        stderr: f.stderr,
        report: serde_json::from_str(&text).context("the report is not JSON")?,
        seconds: f.elapsed.as_secs_f64(),
    })
}

/// How the tests run `fitcheck-agent run`: where, trusting what, for how long. Each run gets
/// `DIR/NAME.toml` (its profile), `DIR/NAME.json` (its report) and `DIR/NAME-state`, in a clean
/// environment: no proxy settings but those its [`How`] names.
#[derive(Debug, Clone)]
pub struct AgentSetup {
    /// The agent binary ([`agent_binary`]).
    pub binary: PathBuf,
    /// Where each run's profile, report and state go.
    pub dir: PathBuf,
    /// The lab namespace it runs in, ended with this process (parent-death signal); this
    /// process's own network when `None`.
    pub netns: Option<String>,
    /// What the device trusts (`SSL_CERT_FILE`); the system's store when `None`.
    pub trust: Option<PathBuf>,
    /// More arguments for every run (`--public-roots`, `--concurrency`).
    pub args: Vec<String>,
    /// How long one run may take.
    pub limit: Duration,
    /// Put before the run's name in the copies kept under `$FITCHECK_LAB_REPORTS`.
    pub copy_prefix: String,
}

/// How one agent run reaches the network.
#[derive(Debug, Default, Clone, Copy)]
pub struct How<'a> {
    /// HTTPS_PROXY and HTTP_PROXY.
    pub proxy: Option<&'a str>,
    pub no_proxy: Option<&'a str>,
    /// Run as this user (a numeric id; its group of the same id) instead of root, in a lab
    /// namespace.
    pub user: Option<&'a str>,
    /// More arguments for `run`.
    pub extra: &'a [&'a str],
}

/// The `PATH` of an agent run.
const AGENT_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

impl AgentSetup {
    /// Runs the agent on `profile` as the run `name` (see [`agent_run`]).
    pub fn run(&self, name: &str, profile: &str, how: How<'_>) -> Result<AgentRun> {
        let dir = self.files_of(name, how.user)?;
        let profile_path = dir.join(format!("{name}.toml"));
        write_mode(&profile_path, profile, 0o644)?;
        let out = dir.join(format!("{name}.json"));
        let mut cmd = self.command(how.user)?;
        cmd.env_clear().env("PATH", AGENT_PATH);
        if let Some(trust) = &self.trust {
            cmd.env("SSL_CERT_FILE", trust);
        }
        if let Some(p) = how.proxy {
            cmd.env("HTTPS_PROXY", p).env("HTTP_PROXY", p);
        }
        if let Some(n) = how.no_proxy {
            cmd.env("NO_PROXY", n);
        }
        cmd.args(["run", "--quiet"])
            .args(&self.args)
            .arg("--profile")
            .arg(&profile_path)
            .arg("--json")
            .arg(&out)
            .arg("--state-dir")
            .arg(dir.join(format!("{name}-state")))
            .args(how.extra);
        let copy_as = format!("{}{name}", self.copy_prefix);
        agent_run(&mut cmd, self.limit, name, &out, &copy_as)
    }

    /// Where the run `name` keeps its files: [`AgentSetup::dir`], or for a run as another user
    /// a directory of its own there, owned by that user.
    fn files_of(&self, name: &str, user: Option<&str>) -> Result<PathBuf> {
        let Some(user) = user else {
            return Ok(self.dir.clone());
        };
        let dir = self.dir.join(format!("{name}-files"));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let id: u32 = user
            .parse()
            .with_context(|| format!("an agent run's user is a numeric id, not {user:?}"))?;
        std::os::unix::fs::chown(&dir, Some(id), Some(id))
            .with_context(|| format!("handing {} to {id}", dir.display()))?;
        Ok(dir)
    }

    /// The agent binary as a command: inside the lab namespace as `user`, or here.
    fn command(&self, user: Option<&str>) -> Result<Command> {
        match (&self.netns, user) {
            (Some(ns), user) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", ns, SETPRIV]);
                as_user(&mut cmd, user)
                    .args(["--pdeathsig", "KILL", "--"])
                    .arg(&self.binary);
                Ok(cmd)
            }
            (None, None) => Ok(Command::new(&self.binary)),
            (None, Some(u)) => bail!("an agent run as user {u} runs in a lab namespace"),
        }
    }
}

/// `setpriv`'s arguments that switch to `user` (a name or UID; its group of the same name, no
/// supplementary groups), when given.
fn as_user<'c>(setpriv: &'c mut Command, user: Option<&str>) -> &'c mut Command {
    if let Some(u) = user {
        setpriv
            .arg(format!("--reuid={u}"))
            .arg(format!("--regid={u}"))
            .arg("--clear-groups");
    }
    setpriv
}

/// A lab with its servers running: its namespaces and processes, its directory, and how its
/// agent runs. Dropping it tears the lab down first, then removes the directory.
#[derive(Debug)]
pub struct World {
    pub lab: Lab,
    pub dir: tempfile::TempDir,
    pub agent: AgentSetup,
}

impl World {
    /// The lab's directory: configuration, logs, profiles and reports.
    pub fn d(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the agent ([`AgentSetup::run`]), panicking when it could not.
    #[track_caller]
    pub fn run_agent(&self, name: &str, profile: &str, how: How<'_>) -> AgentRun {
        self.agent.run(name, profile, how).or_panic()
    }
}

/// What every lab starts from: the agent binary (said on stderr, as `<tag>: agent …`) and a
/// fresh directory `<prefix>…` in the temporary directory.
pub fn prepare(tag: &str, prefix: &str) -> Result<(PathBuf, tempfile::TempDir)> {
    let t0 = Instant::now();
    let agent = agent_binary()?;
    eprintln!(
        "{tag}: agent {} ({:.1} s)",
        agent.display(),
        t0.elapsed().as_secs_f64()
    );
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .context("creating the lab's directory")?;
    Ok((agent, dir))
}

/// What a lab of namespaces alone needs: `ip` to make them and `setpriv` to run agents there.
pub const NAMESPACE_TOOLS: [Tool; 2] = [
    Tool {
        path: SETPRIV,
        package: "util-linux",
    },
    Tool {
        path: "/usr/sbin/ip",
        package: "iproute2",
    },
];

/// What every lab needs: namespaces, nftables, a resolver, a web server and a STUN server.
pub const BASE_TOOLS: [Tool; 7] = [
    Tool {
        path: SETPRIV,
        package: "util-linux",
    },
    Tool {
        path: "/usr/sbin/ip",
        package: "iproute2",
    },
    Tool {
        path: "/usr/bin/ss",
        package: "iproute2",
    },
    Tool {
        path: "/usr/sbin/nft",
        package: "nftables",
    },
    Tool {
        path: "/usr/sbin/dnsmasq",
        package: "dnsmasq-base",
    },
    Tool {
        path: "/usr/sbin/nginx",
        package: "nginx-light",
    },
    Tool {
        path: "/usr/bin/turnserver",
        package: "coturn",
    },
];

/// What a finished command did.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `cmd` to the end, killing it (by its PID) when it runs past `limit`.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Result<Finished> {
    let shown = format!("{cmd:?}");
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {shown}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err.join().unwrap_or_default();
            bail!(
                "{shown} ran past {} s and was killed; stderr: {stderr}",
                limit.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(Finished {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed: start.elapsed(),
    })
}

/// Runs a set-up command that must succeed; returns its standard output.
pub fn must(args: &[&str]) -> Result<String> {
    let (prog, rest) = args.split_first().context("empty command")?;
    let f = run_bounded(Command::new(prog).args(rest), COMMAND_LIMIT)?;
    if !f.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            args.join(" "),
            f.status,
            f.stderr.trim()
        );
    }
    Ok(f.stdout)
}

/// Runs a clean-up command whose failure does not matter (the thing may not exist).
fn quietly(args: &[&str]) {
    if let Some((prog, rest)) = args.split_first() {
        let _ = run_bounded(Command::new(prog).args(rest), COMMAND_LIMIT);
    }
}

/// Proxy settings a process inherits; a test talking to loopback removes them all, so that no
/// request can be handed to a proxy elsewhere.
pub use fitcheck_core::PROXY_VARIABLES as PROXY_VARS;

/// `cmd` without the environment's proxy settings ([`PROXY_VARS`]).
pub fn without_proxies(cmd: &mut Command) -> &mut Command {
    for v in PROXY_VARS {
        cmd.env_remove(v);
    }
    cmd
}

/// The agent binary: `FITCHECK_AGENT_BIN`, else `fitcheck-agent` of this workspace (see
/// [`workspace_binary`]).
pub fn agent_binary() -> Result<PathBuf> {
    if let Ok(p) = std::env::var(AGENT_BIN_ENV) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("{AGENT_BIN_ENV}={} is not a file", p.display());
        }
        return Ok(p);
    }
    workspace_binary("fitcheck-agent")
}

/// `fitcheck-agent ARGS --state-dir STATE`, without the environment's proxy settings.
pub fn agent_command(args: &[&str], state: &Path) -> Result<Command> {
    let mut cmd = Command::new(agent_binary()?);
    without_proxies(&mut cmd)
        .args(args)
        .arg("--state-dir")
        .arg(state);
    Ok(cmd)
}

/// Runs [`agent_command`] to the end (at most 120 s: enrolling, uploading).
pub fn agent_cli(args: &[&str], state: &Path) -> Result<Finished> {
    run_bounded(&mut agent_command(args, state)?, Duration::from_secs(120))
}

/// The workspace crates a binary is built from: its own and the workspace crates it depends
/// on (not its dev-dependencies). A binary is stale only when one of these changed; one this
/// list does not name is checked against every crate.
fn binary_sources(name: &str) -> &'static [&'static str] {
    match name {
        "fitcheck-agent" => &["core", "agent"],
        "fitcheck-controller" => &["core", "engine", "bandwidth", "controller"],
        "fitcheck-bandwidth-server" => &["bandwidth"],
        // The lab's own programs link this crate's library.
        "fitlab-delayline" => &["core", "engine", "tests"],
        _ => &[
            "core",
            "engine",
            "agent",
            "bandwidth",
            "controller",
            "tests",
        ],
    }
}

/// A binary of this workspace next to this test's target profile directory
/// (`target/<profile>/NAME`), as `cargo build --workspace --bins` or `cargo test --workspace`
/// left it. Tests never run cargo themselves: a build inside a test holds cargo's lock while
/// other tests' clocks run, and replaces a binary other tests may be executing. A missing
/// binary, or one older than any of its crates' sources, is an error saying how to build it.
pub fn workspace_binary(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find this test's executable")?;
    // A test: target/<profile>/deps/<test> → target/<profile>; a benchmark program:
    // target/<profile>/<bin> → target/<profile>.
    let parent = exe
        .parent()
        .with_context(|| format!("{} has no directory", exe.display()))?;
    let profile_dir = if parent.file_name().is_some_and(|n| n == "deps") {
        parent
            .parent()
            .with_context(|| format!("{} has no target directory", exe.display()))?
    } else {
        parent
    };
    let bin = profile_dir.join(name);
    let build = "build the workspace's binaries first: `cargo build --workspace --bins` \
                 (scripts/test does), in the same profile as the tests";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .with_context(|| format!("{} is missing; {build}", bin.display()))?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut newer = Vec::new();
    for krate in binary_sources(name) {
        newest_after(&root.join(krate).join("src"), built, &mut newer);
        newest_after(&root.join(krate).join("Cargo.toml"), built, &mut newer);
    }
    // Not Cargo.lock: a change there relinks only the binaries whose dependencies it changed,
    // so its time says nothing of one binary, and building would not make a binary it did not
    // concern any newer.
    if let Some(changed) = newer.first() {
        bail!(
            "{} is older than {} (and {} more changed files); {build}",
            bin.display(),
            changed.display(),
            newer.len() - 1
        );
    }
    Ok(bin)
}

/// Collects into `found` the files at or under `path` modified after `built`.
fn newest_after(path: &Path, built: std::time::SystemTime, found: &mut Vec<PathBuf>) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            newest_after(&entry.path(), built, found);
        }
    } else if meta.modified().is_ok_and(|m| m > built) {
        found.push(path.to_path_buf());
    }
}

/// The PID in a lab namespace or `/etc/netns` name (`fitlab-<pid>-<n>-dev`).
fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix("fitlab-")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// Deletes the namespaces and `/etc/netns` directories of earlier lab runs whose process is
/// gone (killed before its tear-down ran). Their servers died with them (parent-death signal).
fn sweep_stale() {
    let alive = |pid: u32| Path::new(&format!("/proc/{pid}")).exists();
    let mut stale: Vec<String> = must(&["ip", "netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| owner_pid(n).is_some_and(|p| !alive(p)))
        .map(str::to_owned)
        .collect();
    if let Ok(entries) = std::fs::read_dir("/etc/netns") {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if owner_pid(&n).is_some_and(|p| !alive(p)) && !stale.contains(&n) {
                stale.push(n);
            }
        }
    }
    for ns in stale {
        eprintln!("lab: removing {ns}, left over from a run that did not tear down");
        quietly(&["ip", "netns", "del", &ns]);
        let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(&ns));
    }
}

/// A process the lab started, ended by its PID on tear-down.
#[derive(Debug)]
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

/// Network namespaces joined by veth pairs, and everything started in them. Dropping it ends
/// the processes and deletes the namespaces and their `/etc/netns` directories.
///
/// [`Lab::new`] builds the two-namespace lab (`dev` and `net`, one veth pair);
/// [`Lab::with_namespaces`] creates any set of named namespaces, which [`Lab::veth`] joins.
#[derive(Debug)]
pub struct Lab {
    /// The device namespace, where the agent runs (the first role of `with_namespaces`).
    pub dev: String,
    /// The network namespace: the district resolver and the product's hosts (the last role of
    /// `with_namespaces`).
    pub net: String,
    /// The veth end in `dev` (set by `new` only).
    pub dev_if: String,
    /// The veth end in `net` (set by `new` only).
    pub net_if: String,
    /// This lab's number in this process (the `<n>` of its namespace names).
    seq: usize,
    /// (role, namespace name) of every namespace, in creation order.
    roles: Vec<(String, String)>,
    namespaces: Vec<String>,
    etc_dirs: Vec<PathBuf>,
    /// Whether `/etc/netns` itself was created here (removed again when left empty).
    created_etc_netns: bool,
    procs: Vec<Proc>,
}

static LABS: AtomicUsize = AtomicUsize::new(0);

impl Lab {
    /// Creates the namespaces; `dev_addr` and `net_addrs` are put on the veth ends (the first
    /// of `net_addrs` is primary, the others secondary), all in `/prefix`.
    pub fn new(dev_addr: Ipv4Addr, net_addrs: &[Ipv4Addr], prefix: u8) -> Result<Lab> {
        let mut lab = Lab::with_namespaces(&["dev", "net"])?;
        let (pid, n) = (std::process::id(), lab.seq);
        // At most 2 + 7 + 1 + 2 = 12 characters (IFNAMSIZ is 16 with the NUL).
        lab.dev_if = format!("fl{pid}{}d", n % 100);
        lab.net_if = format!("fl{pid}{}n", n % 100);
        let (dev, net, dev_if, net_if) = (
            lab.dev.clone(),
            lab.net.clone(),
            lab.dev_if.clone(),
            lab.net_if.clone(),
        );
        lab.veth((&dev, &dev_if), (&net, &net_if))?;
        lab.addr(&dev, &dev_if, &format!("{dev_addr}/{prefix}"))?;
        for a in net_addrs {
            lab.addr(&net, &net_if, &format!("{a}/{prefix}"))?;
        }
        Ok(lab)
    }

    /// Creates one namespace per role, named `fitlab-<pid>-<n>-<role>` (unique to this process
    /// and this lab), each with its loopback up. Leftovers of crashed runs are removed first.
    /// `dev` is the first role's namespace and `net` the last's.
    pub fn with_namespaces(roles: &[&str]) -> Result<Lab> {
        let pid = std::process::id();
        let n = LABS.fetch_add(1, Ordering::Relaxed);
        let roles: Vec<(String, String)> = roles
            .iter()
            .map(|r| ((*r).to_owned(), format!("fitlab-{pid}-{n}-{r}")))
            .collect();
        let first = roles.first().context("a lab needs a namespace")?.1.clone();
        let last = roles.last().context("a lab needs a namespace")?.1.clone();
        let mut lab = Lab {
            dev: first,
            net: last,
            dev_if: String::new(),
            net_if: String::new(),
            seq: n,
            roles,
            namespaces: Vec::new(),
            etc_dirs: Vec::new(),
            created_etc_netns: false,
            procs: Vec::new(),
        };
        sweep_stale();
        // Leftovers of a crashed run with the same names.
        for (_, ns) in &lab.roles {
            quietly(&["ip", "netns", "del", ns]);
            let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(ns));
        }
        for (_, ns) in lab.roles.clone() {
            must(&["ip", "netns", "add", &ns])?;
            lab.namespaces.push(ns.clone());
            must(&["ip", "-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(lab)
    }

    /// The namespace created for `role`.
    pub fn ns(&self, role: &str) -> Result<String> {
        self.roles
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, ns)| ns.clone())
            .with_context(|| format!("this lab has no namespace for the role {role}"))
    }

    /// Joins two namespaces (or two interfaces of one) with a veth pair and brings both ends
    /// up. Both ends are created inside their namespaces: nothing ever appears in the host's,
    /// and deleting the namespaces removes them.
    pub fn veth(&self, a: (&str, &str), b: (&str, &str)) -> Result<()> {
        must(&[
            "ip", "link", "add", a.1, "netns", a.0, "type", "veth", "peer", "name", b.1, "netns",
            b.0,
        ])?;
        for (ns, ifname) in [a, b] {
            must(&["ip", "-n", ns, "link", "set", ifname, "up"])?;
        }
        Ok(())
    }

    /// Adds `cidr` (`10.0.0.1/24`) to `ifname` in `ns`.
    pub fn addr(&self, ns: &str, ifname: &str, cidr: &str) -> Result<()> {
        must(&["ip", "-n", ns, "addr", "add", cidr, "dev", ifname])?;
        Ok(())
    }

    /// Writes `/etc/netns/<ns>/resolv.conf`, which `ip netns exec` mounts over
    /// `/etc/resolv.conf`.
    pub fn set_resolver(&mut self, ns: &str, server: Ipv4Addr) -> Result<()> {
        let parent = Path::new("/etc/netns");
        if !parent.exists() {
            std::fs::create_dir(parent).context("creating /etc/netns")?;
            self.created_etc_netns = true;
        }
        let dir = parent.join(ns);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        self.etc_dirs.push(dir.clone());
        std::fs::write(
            dir.join("resolv.conf"),
            format!("# fitcheck lab, removed on tear-down\nnameserver {server}\n"),
        )?;
        Ok(())
    }

    /// The argument list that runs `args` inside `ns`.
    pub fn in_ns<'a>(ns: &'a str, args: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["ip", "netns", "exec", ns];
        v.extend_from_slice(args);
        v
    }

    /// Runs a command inside `ns` that must succeed; returns its standard output.
    pub fn exec(&self, ns: &str, args: &[&str]) -> Result<String> {
        must(&Lab::in_ns(ns, args))
    }

    /// Starts a long-running program in `ns`, its output going to `log`. `ip netns exec` and
    /// `setpriv` exec in place, so the PID kept is the program's own; `setpriv --pdeathsig`
    /// has the kernel kill it should this test process die without tearing down (SIGKILL).
    pub fn spawn(&mut self, name: &str, ns: &str, args: &[&str], log: &Path) -> Result<u32> {
        self.spawn_as(name, ns, None, args, log)
    }

    /// [`Lab::spawn`], as `user` (a name or UID; its group of the same name, no supplementary
    /// groups) when given. `setpriv` changes the user first and sets the parent-death signal
    /// after, so it holds; a program that is started unprivileged never changes user itself,
    /// which would clear it.
    pub fn spawn_as(
        &mut self,
        name: &str,
        ns: &str,
        user: Option<&str>,
        args: &[&str],
        log: &Path,
    ) -> Result<u32> {
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, SETPRIV]);
        let child = as_user(&mut cmd, user)
            .args(["--pdeathsig", "KILL", "--"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        let pid = child.id();
        self.procs.push(Proc {
            name: name.to_owned(),
            child,
            log: log.to_path_buf(),
        });
        Ok(pid)
    }

    /// Loads the nftables ruleset in `file` into `ns`.
    pub fn load_nft(&self, ns: &str, file: &Path) -> Result<()> {
        self.exec(ns, &["nft", "-f", &file.display().to_string()])?;
        Ok(())
    }

    /// Starts dnsmasq in `ns` with the configuration `conf`, its output going to `log`.
    pub fn spawn_dnsmasq(&mut self, name: &str, ns: &str, conf: &Path, log: &Path) -> Result<u32> {
        let conf = format!("--conf-file={}", conf.display());
        self.spawn(
            name,
            ns,
            &["/usr/sbin/dnsmasq", "--keep-in-foreground", &conf],
            log,
        )
    }

    /// Starts nginx in `ns` with the prefix `prefix` and the configuration `conf`; it writes
    /// its start-up errors to `startup_log` and its output goes to `log`.
    pub fn spawn_nginx(
        &mut self,
        name: &str,
        ns: &str,
        prefix: &Path,
        conf: &Path,
        startup_log: &Path,
        log: &Path,
    ) -> Result<u32> {
        let (prefix, conf) = (prefix.display().to_string(), conf.display().to_string());
        let startup_log = startup_log.display().to_string();
        self.spawn(
            name,
            ns,
            &[
                "/usr/sbin/nginx",
                "-p",
                &prefix,
                "-c",
                &conf,
                "-e",
                &startup_log,
            ],
            log,
        )
    }

    /// Starts coturn in `ns` as a plain STUN server (no TURN, TLS, CLI or RFC 5780) on every
    /// address of `ips` at `port`, keeping its database and PID file in `dir` and its output in
    /// `dir/turnserver.out`.
    pub fn spawn_stun(&mut self, ns: &str, ips: &[Ipv4Addr], port: u16, dir: &Path) -> Result<u32> {
        let ips: Vec<String> = ips.iter().map(Ipv4Addr::to_string).collect();
        let port = port.to_string();
        let db = dir.join("turndb").display().to_string();
        let pidfile = dir.join("turnserver.pid").display().to_string();
        let mut args = vec!["/usr/bin/turnserver", "-n"];
        for ip in &ips {
            args.extend(["--listening-ip", ip]);
        }
        args.extend([
            "--listening-port",
            &port,
            "--stun-only",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--no-rfc5780",
            "--db",
            &db,
            "--pidfile",
            &pidfile,
            "--log-file",
            "stdout",
            "--simple-log",
        ]);
        self.spawn("turnserver", ns, &args, &dir.join("turnserver.out"))
    }

    /// Starts a delay line (`binary`, the workspace's `fitlab-delayline`; the kernel has no
    /// netem) in `ns` between its two `ports`, holding every frame `one_way_ms` each way, and
    /// waits until it is ready. The ports answer no ARP (or the far side would learn a port's MAC
    /// as the near side's and bypass the line) and forward nothing. Frames are copied as they are
    /// seen, so segmentation and checksum offloads are off on the ports and on `feeders`, the
    /// interfaces whose frames reach them. The line ends with the lab, or by itself after half
    /// an hour if the lab hangs.
    pub fn delay_line(
        &mut self,
        binary: &Path,
        ns: &str,
        ports: (&str, &str),
        feeders: &[(&str, &str)],
        one_way_ms: u64,
        log: &Path,
    ) -> Result<u32> {
        for port in [ports.0, ports.1] {
            self.exec(
                ns,
                &[
                    "sysctl",
                    "-qw",
                    &format!("net.ipv4.conf.{port}.arp_ignore=8"),
                    &format!("net.ipv4.conf.{port}.forwarding=0"),
                ],
            )?;
        }
        for (in_ns, ifname) in [(ns, ports.0), (ns, ports.1)].iter().chain(feeders) {
            self.exec(
                in_ns,
                &[
                    "ethtool", "-K", ifname, "tx", "off", "tso", "off", "gso", "off", "gro", "off",
                ],
            )?;
        }
        let pid = self.spawn(
            "delay line",
            ns,
            &[
                &binary.display().to_string(),
                "--a",
                ports.0,
                "--b",
                ports.1,
                "--delay-ms",
                &one_way_ms.to_string(),
                "--max-seconds",
                "1800",
            ],
            log,
        )?;
        self.wait_for_text(log, "ready", Duration::from_secs(120))?;
        Ok(pid)
    }

    /// Waits up to `limit` until the file at `path` contains `needle` (a server's "ready" line,
    /// a log entry), failing early when something the lab started has exited.
    pub fn wait_for_text(&mut self, path: &Path, needle: &str, limit: Duration) -> Result<String> {
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if text.contains(needle) {
                return Ok(text);
            }
            self.check_alive()?;
            if start.elapsed() > limit {
                bail!(
                    "after {} s {} still does not contain {needle:?}; it holds:\n{text}",
                    limit.as_secs(),
                    path.display()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Fails, with the process's log, when something the lab started has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        for p in &mut self.procs {
            if let Some(status) = p.child.try_wait()? {
                let log = std::fs::read_to_string(&p.log).unwrap_or_default();
                bail!("{} exited early ({status}); its output:\n{log}", p.name);
            }
        }
        Ok(())
    }

    /// Waits up to `limit` until every `proto ip:port` in `want` (`("udp", "10.0.0.1:53")`) is
    /// bound in `ns`, as `ss` shows it.
    pub fn wait_listening(
        &mut self,
        ns: &str,
        want: &[(&str, String)],
        limit: Duration,
    ) -> Result<()> {
        let start = Instant::now();
        loop {
            self.check_alive()?;
            let table = self.exec(ns, &["ss", "-Hlntu"])?;
            let bound: Vec<(String, String)> = table
                .lines()
                .filter_map(|l| {
                    let cols: Vec<&str> = l.split_whitespace().collect();
                    Some(((*cols.first()?).to_owned(), (*cols.get(4)?).to_owned()))
                })
                .collect();
            let missing: Vec<String> = want
                .iter()
                .filter(|(proto, addr)| !bound.iter().any(|(p, a)| p == proto && a == addr))
                .map(|(p, a)| format!("{p} {a}"))
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            if start.elapsed() > limit {
                bail!(
                    "after {} s still not listening in {ns}: {}\nss shows:\n{table}",
                    limit.as_secs(),
                    missing.join(", ")
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// A crash of one process the lab started (`pid`, as `spawn` returned it): SIGKILL to it and
    /// to every process it started (a browser's renderers), each checked by its start time so
    /// that no reused PID is signalled. The process is no longer the lab's.
    pub fn kill(&mut self, pid: u32) -> Result<()> {
        let at = self
            .procs
            .iter()
            .position(|p| p.child.id() == pid)
            .with_context(|| format!("the lab started no process {pid}"))?;
        let mut p = self.procs.remove(at);
        let helpers = descendants(&process_table(), pid);
        let _ = p.child.kill();
        let _ = p.child.wait();
        for (helper, started) in helpers {
            if start_time(helper) == Some(started) {
                quietly(&["kill", "-KILL", &helper.to_string()]);
            }
        }
        Ok(())
    }

    /// Ends every process the lab started: SIGTERM, then SIGKILL after a grace period. Only
    /// these PIDs are signalled; as none has been reaped yet, none can have been reused.
    ///
    /// Helpers a server started itself (squid's certificate generator) are waited for too: they
    /// exit once their server has; any still there after the grace period is killed by its PID,
    /// checked against the start time recorded before the server was signalled.
    pub fn stop_all(&mut self) {
        let table = process_table();
        let mut helpers: Vec<(String, u32, u64)> = Vec::new();
        for p in &mut self.procs {
            if let Ok(None) = p.child.try_wait() {
                for (pid, start) in descendants(&table, p.child.id()) {
                    helpers.push((p.name.clone(), pid, start));
                }
            }
        }
        for p in &mut self.procs {
            if let Ok(None) = p.child.try_wait() {
                let pid = p.child.id().to_string();
                quietly(&["kill", "-TERM", &pid]);
            }
        }
        let start = Instant::now();
        for p in &mut self.procs {
            loop {
                match p.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if start.elapsed() > TERM_GRACE => {
                        eprintln!(
                            "lab: {} ({}) ignored SIGTERM; killing it",
                            p.name,
                            p.child.id()
                        );
                        let _ = p.child.kill();
                        let _ = p.child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        self.procs.clear();
        let start = Instant::now();
        for (name, pid, started) in helpers {
            loop {
                if start_time(pid) != Some(started) {
                    break;
                }
                if start.elapsed() > TERM_GRACE {
                    eprintln!("lab: a helper of {name} ({pid}) outlived it; killing it");
                    quietly(&["kill", "-KILL", &pid.to_string()]);
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// The start time (clock ticks since boot) of a live process, from `/proc/<pid>/stat`; `None`
/// when it is gone or a zombie.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name in parentheses: state (field 3), ppid (4), … starttime (22).
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// (pid, parent pid, start time) of every live process.
fn process_table() -> Vec<(u32, u32, u64)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let rest = stat.get(stat.rfind(')')? + 1..)?;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ppid = fields.get(1)?.parse().ok()?;
            let started = fields.get(19)?.parse().ok()?;
            Some((pid, ppid, started))
        })
        .collect()
}

/// Every descendant of `root` in `table`, with its start time.
fn descendants(table: &[(u32, u32, u64)], root: u32) -> Vec<(u32, u64)> {
    let mut found: Vec<(u32, u64)> = Vec::new();
    let mut parents = vec![root];
    // A process tree is at most as deep as the table is long.
    for _ in 0..table.len() {
        let Some(parent) = parents.pop() else { break };
        for &(pid, ppid, started) in table {
            if ppid == parent && !found.iter().any(|(p, _)| *p == pid) {
                found.push((pid, started));
                parents.push(pid);
            }
        }
    }
    found
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop_all();
        for ns in self.namespaces.drain(..) {
            quietly(&["ip", "netns", "del", &ns]);
        }
        for dir in self.etc_dirs.drain(..) {
            let _ = std::fs::remove_dir_all(&dir);
        }
        if self.created_etc_netns {
            // Fails, and so keeps it, when another lab still has a directory there.
            let _ = std::fs::remove_dir("/etc/netns");
        }
    }
}

/// The value of a named nftables counter in `ns` (`packets N`).
pub fn nft_counter(ns: &str, family_table: (&str, &str), name: &str) -> Result<u64> {
    let out = must(&Lab::in_ns(
        ns,
        &[
            "nft",
            "list",
            "counter",
            family_table.0,
            family_table.1,
            name,
        ],
    ))?;
    let mut words = out.split_whitespace();
    while let Some(w) = words.next() {
        if w == "packets" {
            return words
                .next()
                .and_then(|n| n.parse().ok())
                .with_context(|| format!("cannot read counter {name} from: {out}"));
        }
    }
    bail!("counter {name} has no packet count: {out}")
}

/// A lab certificate authority and one server certificate it signed.
#[derive(Debug)]
pub struct Pki {
    /// The CA's common name, which the agent reports as the issuer.
    pub ca_cn: String,
    pub ca_pem: String,
    /// The CA's private key (PKCS#8 PEM), for a lab server that signs with it (an
    /// intercepting proxy).
    pub ca_key_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
}

/// A fresh CA (`CN=<ca_cn>`) and a server certificate for `names` (the first is its CN).
pub fn make_pki(ca_cn: &str, names: &[&str]) -> Result<Pki> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose, date_time_ymd,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(DnType::CommonName, ca_cn);
    ca.distinguished_name
        .push(DnType::OrganizationName, "fitcheck lab");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = date_time_ymd(2024, 1, 1);
    ca.not_after = date_time_ymd(2099, 12, 31);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca, ca_key);

    let owned: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut leaf = CertificateParams::new(owned)?;
    leaf.distinguished_name = DistinguishedName::new();
    leaf.distinguished_name
        .push(DnType::CommonName, names.first().copied().unwrap_or("lab"));
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = date_time_ymd(2024, 1, 1);
    leaf.not_after = date_time_ymd(2099, 12, 31);
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;
    Ok(Pki {
        ca_cn: ca_cn.to_owned(),
        ca_pem: ca_cert.pem(),
        ca_key_pem,
        server_cert_pem: leaf_cert.pem(),
        server_key_pem: leaf_key.serialize_pem(),
    })
}

/// Fills `@KEY@` placeholders in a config template; fails when one is left unfilled.
pub fn render(template: &str, vars: &[(&str, String)]) -> Result<String> {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("@{k}@"), v);
    }
    let bytes = out.as_bytes();
    for (i, _) in out.match_indices('@') {
        let key: String = out[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        if !key.is_empty() && bytes.get(i + 1 + key.len()) == Some(&b'@') {
            bail!("template placeholder @{key}@ has no value");
        }
    }
    Ok(out)
}

/// Renders `template` with `vars` ([`render`]) into `dir/name`; returns that path.
pub fn write_config(
    dir: &Path,
    name: &str,
    template: &str,
    vars: &[(&str, String)],
) -> Result<PathBuf> {
    let path = dir.join(name);
    let text = render(template, vars).with_context(|| format!("rendering {name}"))?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Writes `text` to `path` with the permissions `mode` (servers and unprivileged agent runs read
/// the lab's files as other users).
pub fn write_mode(path: &Path, text: &str, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", path.display()))
}

/// Panics with the whole error chain (`{:#}`), without anyhow's backtrace noise.
pub trait OrPanic<T> {
    fn or_panic(self) -> T;
}

impl<T> OrPanic<T> for Result<T> {
    #[track_caller]
    fn or_panic(self) -> T {
        match self {
            Ok(v) => v,
            Err(e) => panic!("{e:#}"),
        }
    }
}
