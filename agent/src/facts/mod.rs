//! Device facts: what the device is, for comparison with a profile's minimums.
//!
//! Linux is read directly from `/etc/os-release`, `/proc` and `/sys` (under a configurable root,
//! so tests can hand in a fixture tree); other systems go through `sysinfo` where it covers them,
//! and report `unsupported` (unknown, never a fail) where it does not.
//!
//! - [`linux`]: os-release, CPU frequency, PCI display adapters, DRM connectors, DMI model.
//! - [`pci_ids`]: vendor and device names from the system's `pci.ids`.
//! - [`nvidia`]: NVIDIA VRAM through NVML, when a driver is present.
//! - [`browsers`]: installed browsers and their versions.
//! - [`browser_policy`]: the URL block lists of managed Chrome-family browsers.
//! - [`software`]: the packages, programs, Flatpaks, Snaps and runtimes a profile names.
//! - [`exec`]: asking a program for its version, bounded in time and output.

pub mod browser_policy;
pub mod browsers;
pub mod exec;
pub mod linux;
pub mod nvidia;
pub mod pci_ids;
pub mod software;

use std::path::{Path, PathBuf};

use fitcheck_core::profile::OsFamily;
use fitcheck_core::report::{
    BrowserFacts, CpuFacts, Detection, DeviceFacts, DiskFacts, GpuFacts, MemoryFacts, OsFacts,
    ScreenFacts,
};
use sysinfo::{CpuRefreshKind, Disks, MemoryRefreshKind, RefreshKind, System};

/// Where facts are read from: `/` on a real device, a fixture tree in tests.
#[derive(Debug, Clone)]
pub struct FactSources {
    /// Root of the file system holding `etc/`, `proc/`, `sys/` and `usr/share/`.
    pub root: PathBuf,
    /// Whether to ask NVML (the NVIDIA driver) for VRAM.
    pub use_nvml: bool,
}

impl Default for FactSources {
    fn default() -> Self {
        FactSources {
            root: PathBuf::from("/"),
            use_nvml: true,
        }
    }
}

impl FactSources {
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }
}

/// Collects every device fact. Blocking (reads files, may load NVML and run browsers with
/// `--version`); call it from a blocking task.
pub fn collect(sources: &FactSources) -> DeviceFacts {
    let sys = System::new_with_specifics(
        RefreshKind::nothing()
            .with_memory(MemoryRefreshKind::nothing().with_ram())
            .with_cpu(CpuRefreshKind::nothing().with_frequency()),
    )
    .ok();
    DeviceFacts {
        os: os_facts(sources),
        cpu: cpu_facts(sources, sys.as_ref()),
        memory: MemoryFacts {
            total_bytes: memory_total(sources, sys.as_ref()),
        },
        disk: system_disk(),
        gpu: gpu_facts(sources),
        screen: screen_facts(sources),
        browsers: browser_facts(),
        model: if cfg!(target_os = "linux") {
            linux::dmi_model(sources)
        } else {
            None
        },
        form_factor: if cfg!(target_os = "linux") {
            linux::dmi_form_factor(sources)
        } else {
            None
        },
        // Only the browser agent sees the browser's extensions.
        extensions: None,
        // Looked up only for what a profile names: see [`collect_for`].
        software: None,
    }
}

/// Every device fact, and the software `wanted` names looked up where it is installed.
pub fn collect_for(
    sources: &FactSources,
    wanted: &[fitcheck_core::profile::SoftwareRequirement],
) -> DeviceFacts {
    let mut facts = collect(sources);
    facts.software = software::collect(sources, wanted, facts.os.family, &browsers::search_path());
    facts
}

fn os_facts(sources: &FactSources) -> OsFacts {
    let architecture = std::env::consts::ARCH.to_owned();
    let kernel = std::fs::read_to_string(sources.path("proc/sys/kernel/osrelease"))
        .ok()
        .map(|s| s.trim().to_owned())
        .or_else(|| System::kernel_version().ok());
    if cfg!(target_os = "linux") {
        let rel = linux::os_release(sources);
        return OsFacts {
            family: Some(rel.family),
            name: rel.pretty_name,
            version: rel.version_id,
            distribution: rel.id,
            kernel,
            architecture,
        };
    }
    let family = match std::env::consts::OS {
        "windows" => Some(OsFamily::Windows),
        "macos" => Some(OsFamily::Macos),
        "ios" => Some(OsFamily::Ios),
        "android" => Some(OsFamily::Android),
        _ => None,
    };
    OsFacts {
        family,
        name: System::long_os_version()
            .or_else(|_| System::name())
            .unwrap_or_else(|_| std::env::consts::OS.to_owned()),
        version: System::os_version().ok(),
        distribution: None,
        kernel,
        architecture,
    }
}

fn cpu_facts(sources: &FactSources, sys: Option<&System>) -> CpuFacts {
    let cpus = sys.map(System::cpus).unwrap_or_default();
    let logical = if cpus.is_empty() {
        std::thread::available_parallelism().map_or(0, |n| n.get())
    } else {
        cpus.len()
    };
    let model = cpus
        .first()
        .map(|c| c.brand().trim().to_owned())
        .filter(|m| !m.is_empty());
    let (max_frequency_mhz, frequency_source) = match linux::cpu_max_mhz(sources, model.as_deref())
    {
        Some((mhz, src)) => (Some(mhz), Some(src.to_owned())),
        None => match cpus.iter().map(sysinfo::Cpu::frequency).max() {
            Some(f) if f > 0 => (Some(f), Some("sysinfo".to_owned())),
            _ => (None, None),
        },
    };
    CpuFacts {
        model,
        logical_cores: u32::try_from(logical).unwrap_or(u32::MAX),
        physical_cores: System::physical_core_count()
            .ok()
            .and_then(|n| u32::try_from(n).ok()),
        max_frequency_mhz,
        frequency_source,
    }
}

fn memory_total(sources: &FactSources, sys: Option<&System>) -> u64 {
    linux::mem_total_bytes(sources).unwrap_or_else(|| sys.map_or(0, System::total_memory))
}

/// The volume the OS runs from: `/` on Unix, `%SystemDrive%\` on Windows.
fn system_disk() -> Option<DiskFacts> {
    let disks = Disks::new_with_refreshed_list().ok()?;
    let want: PathBuf = if cfg!(windows) {
        let drive = std::env::var("SystemDrive").unwrap_or_else(|_| "C:".to_owned());
        PathBuf::from(format!("{drive}\\"))
    } else {
        PathBuf::from("/")
    };
    disks
        .iter()
        .find(|d| d.mount_point() == want.as_path())
        .map(|d| DiskFacts {
            mount_point: d.mount_point().display().to_string(),
            total_bytes: d.total_space(),
            free_bytes: d.available_space(),
        })
        .or_else(|| statvfs_root(&want))
}

/// Fallback when the disk list does not include the root (containers with an overlay root).
fn statvfs_root(root: &Path) -> Option<DiskFacts> {
    if !cfg!(unix) {
        return None;
    }
    let out = std::process::Command::new("df")
        .args(["-P", "-B1"])
        .arg(root)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().nth(1)?;
    let cols: Vec<&str> = line.split_whitespace().collect();
    Some(DiskFacts {
        mount_point: root.display().to_string(),
        total_bytes: cols.get(1)?.parse().ok()?,
        free_bytes: cols.get(3)?.parse().ok()?,
    })
}

fn gpu_facts(sources: &FactSources) -> GpuFacts {
    if !cfg!(target_os = "linux") {
        return GpuFacts {
            detection: Detection::Unsupported,
            adapters: Vec::new(),
        };
    }
    let Some(mut adapters) = linux::pci_display_adapters(sources) else {
        return GpuFacts {
            detection: Detection::Unsupported,
            adapters: Vec::new(),
        };
    };
    if sources.use_nvml {
        nvidia::add_vram(&mut adapters);
    }
    GpuFacts {
        detection: if adapters.is_empty() {
            Detection::NoneFound
        } else {
            Detection::Detected
        },
        adapters: adapters.into_iter().map(|a| a.adapter).collect(),
    }
}

fn screen_facts(sources: &FactSources) -> ScreenFacts {
    if !cfg!(target_os = "linux") {
        return ScreenFacts {
            detection: Detection::Unsupported,
            width: None,
            height: None,
            source: None,
        };
    }
    match linux::drm_largest_mode(sources) {
        Some((w, h)) => ScreenFacts {
            detection: Detection::Detected,
            width: Some(w),
            height: Some(h),
            source: Some("drm".to_owned()),
        },
        None => ScreenFacts {
            detection: Detection::NoneFound,
            width: None,
            height: None,
            source: Some("drm".to_owned()),
        },
    }
}

fn browser_facts() -> BrowserFacts {
    if cfg!(target_os = "linux") {
        BrowserFacts {
            detection: Detection::Detected,
            installed: browsers::detect_linux(&browsers::search_path()),
        }
    } else {
        BrowserFacts {
            detection: Detection::Unsupported,
            installed: Vec::new(),
        }
    }
}
