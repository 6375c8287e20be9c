//! `[device]` judged on one device: one small function per key, each with the fix a shortfall
//! takes on a device that does or does not take parts.

use super::{
    FixKind, Judge, Line, RequirementKind, Status, browser, fmt_num, gib, installed_ram_gib, os,
    software,
};
use crate::profile::{DeviceMinimums, Profile};
use crate::report::{Detection, DeviceFacts, FormFactor, GpuAdapter};
use crate::requirement::{DeviceKey, RequirementId};

/// Every `[device]` minimum the profile states, judged: one function per key.
pub(super) fn judge(p: &Profile, d: &DeviceFacts, j: &mut Judge<'_>) {
    let Some(m) = &p.device else { return };
    let c = DeviceContext {
        m,
        d,
        // A desktop takes memory, a graphics card, a larger drive and a monitor; anything else
        // (or a device whose enclosure is not known) has them fixed.
        takes_parts: d.form_factor == Some(FormFactor::Desktop),
    };
    for judge in [
        device_os,
        device_architectures,
        device_ram,
        device_cpu_cores,
        device_cpu_ghz,
        device_disk,
        device_screen,
        device_gpu,
        browser::judge,
    ] {
        judge(&c, j);
    }
}

/// What every device requirement is judged with: the profile's minimums, the device's facts,
/// and whether the device takes parts.
pub(super) struct DeviceContext<'a> {
    pub(super) m: &'a DeviceMinimums,
    pub(super) d: &'a DeviceFacts,
    takes_parts: bool,
}

impl DeviceContext<'_> {
    /// A part for a device that takes parts, `other` for one that does not.
    fn part(&self, other: FixKind) -> FixKind {
        if self.takes_parts {
            FixKind::UpgradePart
        } else {
            other
        }
    }

    /// A device requirement's line: critical, under `device.KEY`.
    pub(super) fn line(&self, key: DeviceKey, title: &str, expected: String) -> Line {
        Line {
            id: RequirementId::Device(key),
            kind: RequirementKind::Device,
            title: title.to_owned(),
            critical: true,
            expected,
        }
    }
}

/// The operating system: a family the product supports, at a version in its window.
fn device_os(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if !m.os.is_empty() {
        let expected: Vec<String> =
            m.os.iter()
                .map(|o| {
                    let name = match &o.distribution {
                        Some(dist) => format!("{} ({dist})", o.family),
                        None => o.family.to_string(),
                    };
                    let window = software::window_words(
                        o.min_version.as_deref(),
                        o.max_version.as_deref(),
                        &o.exclude_versions,
                    );
                    software::named_window(&name, &window)
                })
                .collect();
        let l = c.line(DeviceKey::Os, "Operating system", expected.join(" or "));
        // Names often carry the version already (`Debian GNU/Linux 12 (bookworm)`).
        let observed = match &d.os.version {
            Some(v) if !d.os.name.contains(v.as_str()) => format!("{} (version {v})", d.os.name),
            _ => d.os.name.clone(),
        };
        let (status, remedy, fix) = os::judge(m, d);
        j.push_fix(l, status, observed, remedy, fix);
    }
}

/// The processor architecture.
fn device_architectures(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if !m.architectures.is_empty() {
        let l = c.line(
            DeviceKey::Architectures,
            "CPU architecture",
            m.architectures.join(" or "),
        );
        let ok = m.architectures.contains(&d.os.architecture);
        j.push(
            l,
            if ok { Status::Pass } else { Status::Fail },
            d.os.architecture.clone(),
            Some("replace the device with a supported architecture".to_owned()),
        );
    }
}

/// Installed memory.
fn device_ram(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let Some(min) = m.ram_min_gib {
        let l = c.line(
            DeviceKey::RamMinGib,
            "RAM",
            format!("≥ {} GiB", fmt_num(min)),
        );
        let installed = installed_ram_gib(d.memory.total_bytes);
        let observed = format!(
            "{:.1} GiB usable ({} GiB installed)",
            gib(d.memory.total_bytes),
            fmt_num(installed)
        );
        let status = if d.memory.total_bytes == 0 {
            Status::Unknown
        } else if installed >= min {
            Status::Pass
        } else {
            Status::Fail
        };
        if c.takes_parts {
            j.push_fix(
                l,
                status,
                observed,
                Some(format!(
                    "add memory to reach at least {} GiB (a desktop takes more)",
                    fmt_num(min)
                )),
                Some(FixKind::UpgradePart),
            );
        } else {
            j.push(
                l,
                status,
                observed,
                Some(format!(
                    "use a device with at least {} GiB of RAM (student devices' memory is soldered in)",
                    fmt_num(min)
                )),
            );
        }
    }
}

/// Processor cores.
fn device_cpu_cores(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let Some(min) = m.cpu_cores_min {
        let l = c.line(DeviceKey::CpuCoresMin, "CPU cores", format!("≥ {min}"));
        let n = d.cpu.logical_cores;
        let status = if n == 0 {
            Status::Unknown
        } else if n >= min {
            Status::Pass
        } else {
            Status::Fail
        };
        j.push(
            l,
            status,
            format!("{n} logical cores"),
            Some("replace the device with one that has more cores".to_owned()),
        );
    }
}

/// Processor speed.
fn device_cpu_ghz(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let Some(min) = m.cpu_min_ghz {
        let l = c.line(
            DeviceKey::CpuMinGhz,
            "CPU frequency",
            format!("≥ {} GHz", fmt_num(min)),
        );
        match d.cpu.max_frequency_mhz {
            Some(mhz) => {
                let ghz = mhz as f64 / 1000.0;
                // Marketing figures are rounded to one decimal: 1.596 GHz is a 1.6 GHz part.
                let ok = (ghz * 10.0).round() / 10.0 >= min;
                j.push(
                    l,
                    if ok { Status::Pass } else { Status::Fail },
                    format!("{ghz:.2} GHz"),
                    Some("replace the device with a faster processor".to_owned()),
                );
            }
            None => j.push(
                l,
                Status::Unknown,
                "frequency not exposed by the OS".to_owned(),
                None,
            ),
        }
    }
}

/// Free space on the system volume.
fn device_disk(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let Some(min) = m.disk_free_min_gib {
        let l = c.line(
            DeviceKey::DiskFreeMinGib,
            "Free disk",
            format!("≥ {} GiB", fmt_num(min)),
        );
        match &d.disk {
            Some(disk) => {
                let free = gib(disk.free_bytes);
                let size = gib(disk.total_bytes);
                let status = if free >= min {
                    Status::Pass
                } else {
                    Status::Fail
                };
                let observed = format!("{free:.1} GiB free on {}", disk.mount_point);
                if disk.total_bytes > 0 && size < min {
                    // Freeing space cannot reach it: the volume is smaller than the need.
                    let remedy = if c.takes_parts {
                        format!(
                            "fit a drive larger than {} GiB (the system volume holds {size:.0} GiB)",
                            fmt_num(min)
                        )
                    } else {
                        format!(
                            "use a device with more storage (the system volume holds {size:.0} GiB)"
                        )
                    };
                    let fix = c.part(FixKind::ReplaceDevice);
                    j.push_fix(l, status, observed, Some(remedy), Some(fix));
                } else {
                    let remedy = format!("free at least {} GiB on the system volume", fmt_num(min));
                    j.push(l, status, observed, Some(remedy));
                }
            }
            None => j.push(
                l,
                Status::Unknown,
                "system volume not found".to_owned(),
                None,
            ),
        }
    }
}

/// The display's resolution.
fn device_screen(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let (Some(w), Some(h)) = (m.screen_min_width, m.screen_min_height) {
        let l = c.line(DeviceKey::Screen, "Screen resolution", format!("≥ {w}×{h}"));
        match (d.screen.detection, d.screen.width, d.screen.height) {
            (Detection::Detected, Some(sw), Some(sh)) => j.push_fix(
                l,
                if sw >= w && sh >= h {
                    Status::Pass
                } else {
                    Status::Fail
                },
                format!("{sw}×{sh}"),
                Some(if c.takes_parts {
                    format!("connect a monitor that shows at least {w}×{h}")
                } else {
                    format!("use a device whose screen shows at least {w}×{h}")
                }),
                Some(c.part(FixKind::ReplaceDevice)),
            ),
            (Detection::NoneFound, _, _) => {
                j.push(l, Status::Unknown, "no display connected".to_owned(), None);
            }
            _ => j.push(
                l,
                Status::Unknown,
                "resolution not exposed by the OS".to_owned(),
                None,
            ),
        }
    }
}

/// Graphics: the adapter's vendor and memory.
fn device_gpu(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let Some(g) = &m.gpu
        && g.required
    {
        let mut expected = "a GPU".to_owned();
        if !g.vendors.is_empty() {
            let v: Vec<String> = g.vendors.iter().map(ToString::to_string).collect();
            expected = format!("{} GPU", v.join(" or "));
        }
        if let Some(v) = g.vram_min_mib {
            expected.push_str(&format!(" with ≥ {v} MiB VRAM"));
        }
        let l = c.line(DeviceKey::Gpu, "GPU", expected);
        if d.gpu.detection == Detection::Unsupported {
            j.push(
                l,
                Status::Unknown,
                "GPU detection not supported on this OS".to_owned(),
                None,
            );
        } else {
            let names: Vec<String> = d
                .gpu
                .adapters
                .iter()
                .map(|a| match a.vram_bytes {
                    Some(b) => format!("{} {} ({} MiB)", a.vendor_name, a.model, b / (1024 * 1024)),
                    None => format!("{} {}", a.vendor_name, a.model),
                })
                .collect();
            let vendor_ok = |a: &GpuAdapter| g.vendors.is_empty() || g.vendors.contains(&a.vendor);
            let candidates: Vec<_> = d.gpu.adapters.iter().filter(|a| vendor_ok(a)).collect();
            let (status, observed) = if candidates.is_empty() {
                (
                    Status::Fail,
                    if names.is_empty() {
                        "no display adapter".to_owned()
                    } else {
                        names.join("; ")
                    },
                )
            } else if let Some(min) = g.vram_min_mib {
                let best = candidates.iter().filter_map(|a| a.vram_bytes).max();
                match best {
                    Some(b) if b / (1024 * 1024) >= min => (Status::Pass, names.join("; ")),
                    Some(_) => (Status::Fail, names.join("; ")),
                    None => (
                        Status::Unknown,
                        format!("{} (VRAM not exposed)", names.join("; ")),
                    ),
                }
            } else {
                (Status::Pass, names.join("; "))
            };
            let remedy = if c.takes_parts {
                "fit a graphics card that meets this"
            } else {
                "use a device whose graphics meet this"
            };
            j.push_fix(
                l,
                status,
                observed,
                Some(remedy.to_owned()),
                Some(c.part(FixKind::ReplaceDevice)),
            );
        }
    }
}

/// What a device requirement's result is about, as the report names it.
pub(super) fn result_target(key: DeviceKey) -> &'static str {
    match key {
        DeviceKey::Architectures => "architecture",
        DeviceKey::RamMinGib => "memory",
        DeviceKey::CpuCoresMin => "cpu_cores",
        DeviceKey::CpuMinGhz => "cpu_frequency",
        DeviceKey::DiskFreeMinGib => "disk",
        DeviceKey::Os => "os",
        DeviceKey::Screen => "screen",
        DeviceKey::Gpu => "gpu",
        DeviceKey::Browser => "browser",
    }
}
