//! Vendor and device names from the system's PCI ID database (`pci.ids`, from pciutils or
//! hwdata). Without it, vendors fall back to a short built-in list and devices to their hex id.

use std::fs;

use super::FactSources;

const LOCATIONS: [&str; 3] = [
    "usr/share/misc/pci.ids",
    "usr/share/hwdata/pci.ids",
    "usr/share/pci.ids",
];

/// The database text, if one was found.
#[derive(Debug, Default)]
pub struct PciIds {
    text: Option<String>,
}

fn builtin_vendor(vendor: u16) -> Option<&'static str> {
    Some(match vendor {
        0x10de => "NVIDIA Corporation",
        0x1002 => "Advanced Micro Devices, Inc. [AMD/ATI]",
        0x8086 => "Intel Corporation",
        0x1af4 => "Red Hat, Inc.",
        0x1234 => "QEMU",
        0x15ad => "VMware",
        0x80ee => "InnoTek Systemberatung GmbH",
        0x1414 => "Microsoft Corporation",
        0x102b => "Matrox Electronics Systems Ltd.",
        0x1a03 => "ASPEED Technology, Inc.",
        _ => return None,
    })
}

impl PciIds {
    /// Loads the first database found under the sources' root.
    pub fn load(sources: &FactSources) -> PciIds {
        let text = LOCATIONS
            .iter()
            .find_map(|p| fs::read_to_string(sources.path(p)).ok());
        PciIds { text }
    }

    /// Vendor and device names. Unknown ones come back as `vendor 0x1234` / `device 0x5678`.
    pub fn names(&self, vendor: u16, device: u16) -> (String, String) {
        let (mut v, mut d) = (None, None);
        if let Some(text) = &self.text {
            let vkey = format!("{vendor:04x}");
            let dkey = format!("{device:04x}");
            let mut in_vendor = false;
            for line in text.lines() {
                if line.starts_with('#') || line.is_empty() {
                    continue;
                }
                if !line.starts_with('\t') {
                    if in_vendor {
                        break;
                    }
                    if let Some(rest) = line.strip_prefix(vkey.as_str())
                        && rest.starts_with("  ")
                    {
                        in_vendor = true;
                        v = Some(rest.trim().to_owned());
                    }
                    continue;
                }
                if in_vendor
                    && !line.starts_with("\t\t")
                    && let Some(rest) = line.trim_start_matches('\t').strip_prefix(dkey.as_str())
                    && rest.starts_with("  ")
                {
                    d = Some(rest.trim().to_owned());
                    break;
                }
            }
        }
        (
            v.or_else(|| builtin_vendor(vendor).map(str::to_owned))
                .unwrap_or_else(|| format!("vendor 0x{vendor:04x}")),
            d.unwrap_or_else(|| format!("device 0x{device:04x}")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_database_and_fallbacks() {
        let ids = PciIds {
            text: Some(
                "# comment\n10de  NVIDIA Corporation\n\t2330  GH100 [H100 SXM5 80GB]\n\t\t10de 16c1  H100 SXM5 80GB\n1002  Advanced Micro Devices, Inc. [AMD/ATI]\n\t73bf  Navi 21\n"
                    .to_owned(),
            ),
        };
        assert_eq!(
            ids.names(0x10de, 0x2330),
            (
                "NVIDIA Corporation".to_owned(),
                "GH100 [H100 SXM5 80GB]".to_owned()
            )
        );
        assert_eq!(ids.names(0x1002, 0x73bf).1, "Navi 21");
        assert_eq!(ids.names(0x10de, 0x9999).1, "device 0x9999");
        let empty = PciIds::default();
        assert_eq!(
            empty.names(0x8086, 0x46a6),
            ("Intel Corporation".to_owned(), "device 0x46a6".to_owned())
        );
        assert_eq!(empty.names(0xabcd, 1).0, "vendor 0xabcd");
    }
}
