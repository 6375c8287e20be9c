//! Linux facts straight from the files the kernel and the distribution publish.

use std::fs;

use fitcheck_core::profile::{GpuVendor, OsFamily};
use fitcheck_core::report::{DeviceModel, FormFactor, GpuAdapter};

use super::FactSources;
use super::pci_ids::PciIds;

/// What `/etc/os-release` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsRelease {
    pub family: OsFamily,
    pub id: Option<String>,
    pub version_id: Option<String>,
    pub pretty_name: String,
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v);
    v.replace("\\\"", "\"")
}

/// Reads `etc/os-release` (or `usr/lib/os-release`). ChromeOS's Linux environment reports
/// itself as the container's distribution, so the family is Linux unless `ID` says `chromeos`.
pub fn os_release(sources: &FactSources) -> OsRelease {
    let text = fs::read_to_string(sources.path("etc/os-release"))
        .or_else(|_| fs::read_to_string(sources.path("usr/lib/os-release")))
        .unwrap_or_default();
    let mut id = None;
    let mut version_id = None;
    let mut pretty = None;
    let mut name = None;
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = unquote(v);
        match k.trim() {
            "ID" => id = Some(v),
            "VERSION_ID" => version_id = Some(v),
            "PRETTY_NAME" => pretty = Some(v),
            "NAME" => name = Some(v),
            _ => {}
        }
    }
    let family = match id.as_deref() {
        Some("chromeos") | Some("chromiumos") => OsFamily::Chromeos,
        _ => OsFamily::Linux,
    };
    OsRelease {
        family,
        pretty_name: pretty.or(name).unwrap_or_else(|| "Linux".to_owned()),
        id,
        version_id,
    }
}

/// Make and model from DMI (`/sys/class/dmi/id/sys_vendor`, `product_name`), which any user
/// may read; the serial number beside them is never read. Placeholders firmware vendors leave
/// in (`To be filled by O.E.M.`, `System Product Name`) count as unknown.
pub fn dmi_model(sources: &FactSources) -> Option<DeviceModel> {
    let read = |name: &str| -> Option<String> {
        let text =
            std::fs::read_to_string(sources.path(&format!("sys/class/dmi/id/{name}"))).ok()?;
        let value: String = text
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect();
        let placeholder = value.is_empty()
            || [
                "to be filled",
                "system product name",
                "system manufacturer",
                "default string",
                "not applicable",
                "not specified",
            ]
            .iter()
            .any(|p| value.to_ascii_lowercase().contains(p));
        (!placeholder).then_some(value)
    };
    let product = read("product_name")?;
    Some(DeviceModel {
        vendor: read("sys_vendor").unwrap_or_default(),
        product,
    })
}

/// The enclosure from DMI `chassis_type` (an SMBIOS number any user may read); absent when
/// the firmware says "other" or "unknown" or the file is missing.
pub fn dmi_form_factor(sources: &FactSources) -> Option<FormFactor> {
    let text = fs::read_to_string(sources.path("sys/class/dmi/id/chassis_type")).ok()?;
    FormFactor::from_smbios(text.trim().parse().ok()?)
}

/// `MemTotal` from `/proc/meminfo`, in bytes.
pub fn mem_total_bytes(sources: &FactSources) -> Option<u64> {
    let text = fs::read_to_string(sources.path("proc/meminfo")).ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The CPU's maximum frequency in MHz and where it came from: cpufreq's `cpuinfo_max_freq`,
/// else the "@ 2.40GHz" in the model name, else the current `cpu MHz` in `/proc/cpuinfo`.
pub fn cpu_max_mhz(sources: &FactSources, model: Option<&str>) -> Option<(u64, &'static str)> {
    if let Ok(khz) =
        fs::read_to_string(sources.path("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"))
        && let Ok(khz) = khz.trim().parse::<u64>()
        && khz > 0
    {
        return Some((khz / 1000, "cpufreq"));
    }
    let model_text = match model {
        Some(m) => Some(m.to_owned()),
        None => fs::read_to_string(sources.path("proc/cpuinfo"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            }),
    };
    if let Some(m) = model_text
        && let Some(at) = m.rfind('@')
    {
        let rest = m.get(at + 1..).unwrap_or("").trim();
        let num: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        if let Ok(ghz) = num.parse::<f64>()
            && rest
                .get(num.len()..)
                .is_some_and(|u| u.trim_start().starts_with("GHz"))
        {
            return Some(((ghz * 1000.0).round() as u64, "model_name"));
        }
    }
    let text = fs::read_to_string(sources.path("proc/cpuinfo")).ok()?;
    let mhz = text
        .lines()
        .filter(|l| l.starts_with("cpu MHz"))
        .filter_map(|l| {
            l.split_once(':')
                .and_then(|(_, v)| v.trim().parse::<f64>().ok())
        })
        .fold(0.0_f64, f64::max);
    (mhz > 0.0).then(|| (mhz.round() as u64, "cpuinfo_current"))
}

/// A display adapter with the PCI address it was found at (to match NVML devices).
#[derive(Debug, Clone)]
pub struct FoundAdapter {
    pub pci_address: String,
    pub adapter: GpuAdapter,
}

fn read_hex(path: std::path::PathBuf) -> Option<u32> {
    let text = fs::read_to_string(path).ok()?;
    u32::from_str_radix(text.trim().trim_start_matches("0x"), 16).ok()
}

/// PCI devices of class 0x03 (display controllers), with names from `pci.ids` and VRAM where
/// the driver exposes it (amdgpu's `mem_info_vram_total`). `None` when the PCI bus is not
/// visible at all (some containers), which is "unknown", not "no GPU".
pub fn pci_display_adapters(sources: &FactSources) -> Option<Vec<FoundAdapter>> {
    let dir = sources.path("sys/bus/pci/devices");
    let entries = fs::read_dir(&dir).ok()?;
    let ids = PciIds::load(sources);
    let mut out = Vec::new();
    let mut addrs: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    addrs.sort();
    for dev in addrs {
        let Some(class) = read_hex(dev.join("class")) else {
            continue;
        };
        if class >> 16 != 0x03 {
            continue;
        }
        let (Some(vendor), Some(device)) =
            (read_hex(dev.join("vendor")), read_hex(dev.join("device")))
        else {
            continue;
        };
        let (Ok(vendor), Ok(device)) = (u16::try_from(vendor), u16::try_from(device)) else {
            continue;
        };
        let (vendor_name, model) = ids.names(vendor, device);
        let vram_bytes = fs::read_to_string(dev.join("mem_info_vram_total"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|b| *b > 0);
        out.push(FoundAdapter {
            pci_address: dev
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            adapter: GpuAdapter {
                vendor: GpuVendor::from_pci_id(vendor),
                vendor_name,
                model,
                pci_id: Some(format!("{vendor:04x}:{device:04x}")),
                vram_bytes,
                source: if vram_bytes.is_some() {
                    "pci+amdgpu".to_owned()
                } else {
                    "pci".to_owned()
                },
            },
        });
    }
    Some(out)
}

/// The largest preferred mode among connected DRM connectors (`/sys/class/drm/card*-*/`).
/// The first line of `modes` is the connector's preferred (native) mode.
pub fn drm_largest_mode(sources: &FactSources) -> Option<(u32, u32)> {
    let entries = fs::read_dir(sources.path("sys/class/drm")).ok()?;
    let mut best: Option<(u32, u32)> = None;
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("card") || !name.contains('-') {
            continue;
        }
        let path = e.path();
        let connected = fs::read_to_string(path.join("status"))
            .map(|s| s.trim() == "connected")
            .unwrap_or(false);
        if !connected {
            continue;
        }
        let modes = fs::read_to_string(path.join("modes")).unwrap_or_default();
        let Some(first) = modes.lines().next() else {
            continue;
        };
        let Some((w, h)) = first.split_once('x') else {
            continue;
        };
        let h: String = h.chars().take_while(char::is_ascii_digit).collect();
        if let (Ok(w), Ok(h)) = (w.trim().parse::<u32>(), h.parse::<u32>()) {
            let area = u64::from(w) * u64::from(h);
            if best.is_none_or(|(bw, bh)| u64::from(bw) * u64::from(bh) < area) {
                best = Some((w, h));
            }
        }
    }
    best
}
