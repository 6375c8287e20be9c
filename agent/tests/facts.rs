//! Device facts against what the system itself says: a fixture tree for the parts that vary
//! between machines (GPUs, displays, CPU frequency, distribution), and this machine's own
//! `/proc`, `/sys`, `/etc/os-release`, `uname`, `lspci` and `df` for the live collection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::process::Command;

use fitcheck_agent::facts::{self, FactSources};
use fitcheck_core::evaluate::{Status, evaluate};
use fitcheck_core::profile::{GpuVendor, OsFamily, Profile};
use fitcheck_core::report::Detection;

fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    put(
        r,
        "etc/os-release",
        "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\n",
    );
    put(
        r,
        "proc/meminfo",
        "MemTotal:        3904512 kB\nMemFree:  100 kB\n",
    );
    put(
        r,
        "proc/cpuinfo",
        "processor\t: 0\nmodel name\t: Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz\ncpu MHz\t\t: 799.9\n",
    );
    put(
        r,
        "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq",
        "3400000\n",
    );
    put(r, "proc/sys/kernel/osrelease", "6.5.0-41-generic\n");
    for (addr, class, vendor, device) in [
        ("0000:00:02.0", "0x030000", "0x8086", "0x5917"),
        ("0000:01:00.0", "0x030200", "0x10de", "0x1c8d"),
        ("0000:00:1f.3", "0x040300", "0x8086", "0x9d71"),
    ] {
        put(r, &format!("sys/bus/pci/devices/{addr}/class"), class);
        put(r, &format!("sys/bus/pci/devices/{addr}/vendor"), vendor);
        put(r, &format!("sys/bus/pci/devices/{addr}/device"), device);
    }
    put(
        r,
        "usr/share/misc/pci.ids",
        "8086  Intel Corporation\n\t5917  UHD Graphics 620\n10de  NVIDIA Corporation\n\t1c8d  GP107M [GeForce GTX 1050 Mobile]\n",
    );
    put(r, "sys/class/drm/card0-eDP-1/status", "connected\n");
    put(
        r,
        "sys/class/drm/card0-eDP-1/modes",
        "1920x1080\n1280x720\n",
    );
    put(r, "sys/class/drm/card0-HDMI-A-1/status", "disconnected\n");
    put(r, "sys/class/drm/card0-HDMI-A-1/modes", "");
    dir
}

#[test]
fn facts_are_read_from_the_files_the_system_publishes() {
    let dir = fixture();
    let f = facts::collect(&FactSources {
        root: dir.path().to_owned(),
        use_nvml: false,
    });
    assert_eq!(f.os.family, Some(OsFamily::Linux));
    assert_eq!(f.os.distribution.as_deref(), Some("ubuntu"));
    assert_eq!(f.os.version.as_deref(), Some("22.04"));
    assert_eq!(f.os.name, "Ubuntu 22.04.4 LTS");
    assert_eq!(f.os.kernel.as_deref(), Some("6.5.0-41-generic"));
    assert_eq!(f.memory.total_bytes, 3_904_512 * 1024);
    assert_eq!(f.cpu.max_frequency_mhz, Some(3400));
    assert_eq!(f.cpu.frequency_source.as_deref(), Some("cpufreq"));
    assert_eq!(f.gpu.detection, Detection::Detected);
    let gpus: Vec<(GpuVendor, &str, Option<&str>)> = f
        .gpu
        .adapters
        .iter()
        .map(|a| (a.vendor, a.model.as_str(), a.pci_id.as_deref()))
        .collect();
    assert_eq!(
        gpus,
        [
            (GpuVendor::Intel, "UHD Graphics 620", Some("8086:5917")),
            (
                GpuVendor::Nvidia,
                "GP107M [GeForce GTX 1050 Mobile]",
                Some("10de:1c8d")
            ),
        ],
        "display controllers only; the audio device is not a GPU"
    );
    assert_eq!(f.screen.detection, Detection::Detected);
    assert_eq!((f.screen.width, f.screen.height), (Some(1920), Some(1080)));
}

#[test]
fn frequency_falls_back_to_the_model_name() {
    let dir = fixture();
    fs::remove_file(
        dir.path()
            .join("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"),
    )
    .unwrap();
    let sources = FactSources {
        root: dir.path().to_owned(),
        use_nvml: false,
    };
    assert_eq!(
        facts::linux::cpu_max_mhz(&sources, None),
        Some((1600, "model_name"))
    );
}

#[test]
fn the_model_comes_from_dmi_and_placeholders_are_unknown() {
    let dir = fixture();
    let sources = FactSources {
        root: dir.path().to_owned(),
        use_nvml: false,
    };
    assert_eq!(facts::linux::dmi_model(&sources), None, "no DMI: unknown");
    put(dir.path(), "sys/class/dmi/id/sys_vendor", "Dell Inc.\n");
    put(
        dir.path(),
        "sys/class/dmi/id/product_name",
        "Latitude 3190\n",
    );
    put(
        dir.path(),
        "sys/class/dmi/id/product_serial",
        "SERIAL-MUST-NOT-APPEAR\n",
    );
    let m = facts::linux::dmi_model(&sources).unwrap();
    assert_eq!(
        (m.vendor.as_str(), m.product.as_str()),
        ("Dell Inc.", "Latitude 3190")
    );
    let all = serde_json::to_string(&facts::collect(&sources)).unwrap();
    assert!(all.contains("Latitude 3190") && !all.contains("SERIAL-MUST-NOT-APPEAR"));
    put(
        dir.path(),
        "sys/class/dmi/id/product_name",
        "To Be Filled By O.E.M.\n",
    );
    assert_eq!(facts::linux::dmi_model(&sources), None);
}

/// The enclosure comes from DMI's SMBIOS chassis number: a tower takes parts, a notebook or a
/// convertible does not, and "other", "unknown" or a missing file say nothing.
#[test]
fn the_form_factor_comes_from_the_dmi_chassis_type() {
    use fitcheck_core::report::FormFactor;
    let dir = fixture();
    let sources = FactSources {
        root: dir.path().to_owned(),
        use_nvml: false,
    };
    assert_eq!(facts::linux::dmi_form_factor(&sources), None, "no DMI");
    for (number, want) in [
        ("3", Some(FormFactor::Desktop)),
        ("7", Some(FormFactor::Desktop)),
        ("10", Some(FormFactor::Portable)),
        ("31", Some(FormFactor::Portable)),
        ("13", Some(FormFactor::AllInOne)),
        ("35", Some(FormFactor::Compact)),
        ("2", None),
        ("garbage", None),
    ] {
        put(
            dir.path(),
            "sys/class/dmi/id/chassis_type",
            &format!("{number}\n"),
        );
        assert_eq!(facts::linux::dmi_form_factor(&sources), want, "{number}");
    }
    put(dir.path(), "sys/class/dmi/id/chassis_type", "6\n");
    let all = serde_json::to_value(facts::collect(&sources)).unwrap();
    assert_eq!(all["form_factor"], "desktop");
}

fn profile(device: &str) -> Profile {
    let text = format!(
        "format = 1\nid = \"t\"\nname = \"T\"\nvendor = \"V\"\nreviewed = \"2026-01-01\"\nsources = [\"https://example.com/r\"]\n[device]\n{device}"
    );
    Profile::parse("t.toml", &text).unwrap()
}

#[test]
fn fixture_device_against_minimums() {
    let dir = fixture();
    let f = facts::collect(&FactSources {
        root: dir.path().to_owned(),
        use_nvml: false,
    });
    let p = profile(
        "ram_min_gib = 4\ncpu_min_ghz = 1.6\nscreen_min_width = 1366\nscreen_min_height = 768\n[device.gpu]\nrequired = true\nvendors = [\"amd\"]\n[[device.os]]\nfamily = \"linux\"\ndistribution = \"ubuntu\"\nmin_version = \"22.04\"\n",
    );
    let e = evaluate(&p, &f, &[]);
    let status = |id: &str| {
        e.requirements
            .iter()
            .find(|r| r.id == id)
            .map(|r| (r.status, r.observed.clone()))
            .unwrap()
    };
    // 3.7 GiB usable is a 4 GiB machine.
    assert_eq!(
        status("device.ram_min_gib").0,
        Status::Pass,
        "{:?}",
        status("device.ram_min_gib")
    );
    assert_eq!(status("device.cpu_min_ghz").0, Status::Pass);
    assert_eq!(status("device.screen").0, Status::Pass);
    assert_eq!(status("device.os").0, Status::Pass);
    let gpu = status("device.gpu");
    assert_eq!(gpu.0, Status::Fail, "Intel and NVIDIA are not AMD");
    assert!(gpu.1.contains("UHD Graphics 620"), "{}", gpu.1);
}

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn live_facts_match_this_machine() {
    // Free space moves while other tests and builds run: df before and after the collection
    // brackets what fitcheck may have read.
    let df = || -> u64 { sh("df -P -B1 / | awk 'NR==2 {print $4}'").parse().unwrap() };
    let df_before = df();
    let f = facts::collect(&FactSources::default());
    let df_after = df();
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap();
    let kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(f.memory.total_bytes, kib * 1024);
    assert_eq!(
        f.os.kernel.as_deref(),
        Some(
            fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap()
                .trim()
        )
    );
    assert_eq!(f.os.architecture, sh("uname -m"));
    let release = fs::read_to_string("/etc/os-release").unwrap();
    let field = |k: &str| {
        release
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(|v| v.trim_matches('"').to_owned())
    };
    assert_eq!(f.os.version, field("VERSION_ID"));
    assert_eq!(f.os.distribution, field("ID"));
    let processors = fs::read_to_string("/proc/cpuinfo")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    assert_eq!(f.cpu.logical_cores as usize, processors);
    let disk = f.disk.expect("the root volume is found");
    assert_eq!(disk.mount_point, "/");
    let (low, high) = (df_before.min(df_after), df_before.max(df_after));
    // 16 MiB: what a file written between a reading and statvfs's own may move.
    let slack = 16 << 20;
    assert!(
        disk.free_bytes + slack >= low && disk.free_bytes <= high + slack,
        "fitcheck {} vs df {df_before} before and {df_after} after",
        disk.free_bytes
    );
    if Path::new("/usr/bin/lspci").exists() {
        let lspci = sh("lspci -n | awk '$2 ~ /^03/' | wc -l");
        assert_eq!(
            f.gpu.adapters.len().to_string(),
            lspci,
            "display controllers per lspci"
        );
    }
}

#[test]
fn no_display_is_unknown_never_a_fail() {
    let f = facts::collect(&FactSources::default());
    let connected = fs::read_dir("/sys/class/drm")
        .map(|d| {
            d.filter_map(Result::ok).any(|e| {
                fs::read_to_string(e.path().join("status")).is_ok_and(|s| s.trim() == "connected")
            })
        })
        .unwrap_or(false);
    let e = evaluate(
        &profile("screen_min_width = 1024\nscreen_min_height = 768\n"),
        &f,
        &[],
    );
    let screen = e
        .requirements
        .iter()
        .find(|r| r.id == "device.screen")
        .unwrap();
    if connected {
        assert_ne!(screen.status, Status::Unknown);
    } else {
        assert_eq!(screen.status, Status::Unknown, "{screen:?}");
        assert_eq!(
            e.verdict,
            fitcheck_core::evaluate::Verdict::InsufficientEvidence
        );
    }
}
