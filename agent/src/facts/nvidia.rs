//! NVIDIA video memory through NVML (`libnvidia-ml`, loaded at run time). Without a driver the
//! library is absent and adapters keep what PCI told.

use nvml_wrapper::Nvml;

use super::linux::FoundAdapter;

/// `0000:01:00.0` and NVML's `00000000:01:00.0` name the same device.
fn same_pci_address(sysfs: &str, nvml: &str) -> bool {
    let split = |s: &str| -> Option<(u32, String)> {
        let (domain, rest) = s.split_once(':')?;
        Some((
            u32::from_str_radix(domain, 16).ok()?,
            rest.to_ascii_lowercase(),
        ))
    };
    matches!((split(sysfs), split(nvml)), (Some(a), Some(b)) if a == b)
}

/// Fills in VRAM (and the marketing name) of NVIDIA adapters from NVML.
pub fn add_vram(adapters: &mut [FoundAdapter]) {
    if !adapters
        .iter()
        .any(|a| a.adapter.vendor == fitcheck_core::profile::GpuVendor::Nvidia)
    {
        return;
    }
    let nvml = match Nvml::init() {
        Ok(n) => n,
        Err(err) => {
            tracing::debug!(%err, "NVML not available; VRAM of NVIDIA adapters stays unknown.");
            return;
        }
    };
    let count = nvml.device_count().unwrap_or(0);
    for i in 0..count {
        let Ok(dev) = nvml.device_by_index(i) else {
            continue;
        };
        let Ok(pci) = dev.pci_info() else { continue };
        let Some(found) = adapters
            .iter_mut()
            .find(|a| same_pci_address(&a.pci_address, &pci.bus_id))
        else {
            continue;
        };
        if let Ok(mem) = dev.memory_info() {
            found.adapter.vram_bytes = Some(mem.total);
            found.adapter.source = "pci+nvml".to_owned();
        }
        if let Ok(name) = dev.name() {
            found.adapter.model = name;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_addresses_match_across_domain_widths() {
        assert!(same_pci_address("0000:01:00.0", "00000000:01:00.0"));
        assert!(same_pci_address("0000:3B:00.0", "00000000:3b:00.0"));
        assert!(!same_pci_address("0000:01:00.0", "00000000:02:00.0"));
        assert!(!same_pci_address("garbage", "00000000:02:00.0"));
    }
}
