//! The transfer path in the namespace lab: Debian's OpenSSH server plays the vendor's SFTP
//! endpoint in an "inet" namespace; two sites' SIS servers ("north", "south") run the built
//! agent as data senders; the district firewall (nftables in inet's input) drops SSH from
//! south. North must see the server's own SSH identification, south a drop; the engine must
//! report both machines and ask network operations to open the path at south only.
//!
//! Needs root and iproute2, nftables, util-linux (setpriv) and openssh-server.
//! `FITCHECK_SKIP_LAB=1` at build time skips it. Traffic stays inside the three namespaces this
//! test creates (10.241.0.0/16); nothing routes out, and `Lab`'s `Drop` tears it down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fitcheck_core::report::Report;
use fitcheck_engine::Plan;
use fitcheck_tests::lab::{self, AgentSetup, How, Lab, OrPanic, Tool};
use fitcheck_tests::recommend;

const ENDPOINT_IP: &str = "10.241.9.1";

/// Beyond [`lab::NAMESPACE_TOOLS`].
const TOOLS: [Tool; 3] = [
    Tool {
        path: "/usr/sbin/nft",
        package: "nftables",
    },
    Tool {
        path: "/usr/sbin/sshd",
        package: "openssh-server",
    },
    Tool {
        path: "/usr/bin/ssh-keygen",
        package: "openssh-client",
    },
];

fn profile() -> String {
    format!(
        "format = 1\nid = \"lab-roster\"\nname = \"Lab Roster\"\nvendor = \"Lab\"\nreviewed = \"2026-12-06\"\n\
         sources = [\"https://lab.example/\"]\n\
         [[dns]]\nname = \"app.lab.invalid\"\n\
         [data]\nmethod = \"oneroster_csv\"\nversions = [\"1.2\"]\nschedule = \"nightly\"\n\
         endpoint = \"sftp://{ENDPOINT_IP}:22/roster\"\nsources = [\"https://lab.example/roster\"]\n\
         [[data.elements]]\nsource = \"users.givenName\"\n"
    )
}

#[test]
#[cfg_attr(
    fitcheck_skip_lab,
    ignore = "FITCHECK_SKIP_LAB=1 at build time: the namespace lab is skipped"
)]
fn an_sftp_endpoint_reached_from_one_site_and_dropped_at_another() {
    lab::preflight(&lab::NAMESPACE_TOOLS);
    lab::preflight(&TOOLS);
    let (agent, dir) = lab::prepare("transfer", "fitlab-transfer-").or_panic();
    let d = dir.path().to_path_buf();
    let mut lab = Lab::with_namespaces(&["north", "south", "inet"]).or_panic();
    let (north, south, inet) = (
        lab.ns("north").or_panic(),
        lab.ns("south").or_panic(),
        lab.ns("inet").or_panic(),
    );
    let pid = std::process::id() % 10_000;
    for (n, (site, ns)) in [("north", &north), ("south", &south)]
        .into_iter()
        .enumerate()
    {
        let (a, b) = (format!("ft{pid}{n}a"), format!("ft{pid}{n}b"));
        lab.veth((ns, &a), (&inet, &b)).or_panic();
        lab.addr(ns, &a, &format!("10.241.{n}.2/24")).or_panic();
        lab.addr(&inet, &b, &format!("10.241.{n}.1/24")).or_panic();
        lab.exec(
            ns,
            &[
                "ip",
                "route",
                "add",
                "10.241.9.0/24",
                "via",
                &format!("10.241.{n}.1"),
            ],
        )
        .or_panic();
        eprintln!("transfer: {site} is {ns}");
    }
    lab.exec(
        &inet,
        &[
            "ip",
            "addr",
            "add",
            &format!("{ENDPOINT_IP}/32"),
            "dev",
            "lo",
        ],
    )
    .or_panic();
    // The district's firewall drops SSH from south's SIS server.
    let nft = d.join("firewall.nft");
    std::fs::write(
        &nft,
        "table inet transfer {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    ip saddr 10.241.1.2 tcp dport 22 drop\n  }\n}\n",
    )
    .unwrap();
    lab.load_nft(&inet, &nft).or_panic();

    // Debian's sshd, with a host key of its own and nothing else from this machine.
    let key = d.join("host_ed25519");
    lab::must(&[
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-f",
        &key.display().to_string(),
    ])
    .or_panic();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let config = d.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress {ENDPOINT_IP}:22\nHostKey {}\nPidFile none\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nSubsystem sftp internal-sftp\n",
            key.display()
        ),
    )
    .unwrap();
    let sshd = lab::must(&["sh", "-c", "command -v sshd || echo /usr/sbin/sshd"]).or_panic();
    let sshd = sshd.trim().to_owned();
    lab.spawn(
        "sshd",
        &inet,
        &[&sshd, "-D", "-e", "-f", &config.display().to_string()],
        &d.join("sshd.log"),
    )
    .or_panic();
    lab.wait_listening(
        &inet,
        &[("tcp", format!("{ENDPOINT_IP}:22"))],
        Duration::from_secs(20),
    )
    .or_panic();

    let text = profile();
    let mut reports = Vec::new();
    for (site, ns) in [("north", &north), ("south", &south)] {
        let setup = AgentSetup {
            binary: agent.clone(),
            dir: d.clone(),
            netns: Some(ns.clone()),
            trust: None,
            args: vec!["--label".to_owned(), format!("site={site}")],
            limit: Duration::from_secs(60),
            copy_prefix: "transfer-".to_owned(),
        };
        let run = setup
            .run(
                site,
                &text,
                How {
                    extra: &["--data-sender"],
                    ..How::default()
                },
            )
            .or_panic();
        let results = run.report["results"].as_array().unwrap().clone();
        assert_eq!(
            results.len(),
            1,
            "{site}: only the transfer check: {results:#?}"
        );
        let r = &results[0];
        assert_eq!(r["requirement"], "data.endpoint", "{site}");
        match site {
            "north" => {
                assert_eq!(r["outcome"], "open", "{site}: {r}");
                let banner = r["banner"].as_str().unwrap_or_default();
                assert!(banner.starts_with("SSH-2.0-OpenSSH_"), "{site}: {r}");
                assert_eq!(run.code, Some(0), "{site}");
            }
            _ => {
                assert_eq!(r["outcome"], "filtered", "{site}: {r}");
                assert!(r.get("banner").is_none(), "{site}: {r}");
                assert_eq!(run.code, Some(1), "{site}");
            }
        }
        let report: Report = serde_json::from_value(run.report.clone()).unwrap();
        reports.push((site, report));
    }

    // The recommendation, as the controller writes it from these reports.
    let plan = Plan {
        data_senders: Some("sis".to_owned()),
        window_end: "2099-01-01T00:00:00Z".to_owned(),
        ..Plan::default()
    };
    let r = recommend::from_reports("Roster transfer", &text, &reports, &plan).unwrap();
    assert!(
        r.device_models.is_empty(),
        "sending machines are no devices"
    );
    let t = r.data.as_ref().unwrap().transfer.as_ref().unwrap();
    assert_eq!(t.observed, "reached from 1 of 2 sending machine(s)");
    let open = r
        .conditions
        .iter()
        .find(|c| {
            c.requirements
                .contains(&fitcheck_core::requirement::RequirementId::DataEndpoint)
        })
        .expect("a condition to open the path");
    assert_eq!(open.owner, "network operations");
    assert_eq!(open.sites, ["south"]);
    assert!(open.action.contains("no answer"), "{}", open.action);
    drop(lab);
}
