//! Requirement ids: the one place they are written and read.
//!
//! A requirement id names a profile key path — `dns[0]`, `http[1]`, `ports[2]`,
//! `network.max_rtt_ms`, `device.ram_min_gib` — and check results carry it (a port's TCP 443
//! fallback check as `ports[2].tcp443`, latency and throughput measurements as `network`).
//! Reports store ids as these strings; [`RequirementId`] formats them and parses them back, so
//! no reader takes a string apart by hand.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Suffix of the id of the TCP 443 check an agent runs beside STUN probes (`ports[3].tcp443`).
pub const TCP_FALLBACK: &str = "tcp443";

/// Declares a closed set of profile keys, each written as the profile writes it.
macro_rules! keys {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every key, in profile order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The key as the profile writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The key the profile writes as `text`, if it is one.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|k| k.as_str() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "`{text}` is not a {} key",
                        stringify!($name)
                    ))
                })
            }
        }
    };
}

keys! {
    /// A device requirement's key under `[device]`.
    DeviceKey {
        /// `[[device.os]]`: the operating system and its versions.
        Os = "os",
        /// The processor architecture.
        Architectures = "architectures",
        /// Installed memory.
        RamMinGib = "ram_min_gib",
        /// Logical processor cores.
        CpuCoresMin = "cpu_cores_min",
        /// Processor speed.
        CpuMinGhz = "cpu_min_ghz",
        /// Free space on the system volume.
        DiskFreeMinGib = "disk_free_min_gib",
        /// The display's resolution.
        Screen = "screen",
        /// Graphics.
        Gpu = "gpu",
        /// `[[device.browser]]`: a supported browser.
        Browser = "browser",
    }
}

keys! {
    /// A network need's key under `[network]`.
    NetworkKey {
        /// Download throughput each concurrent user needs, judged per site.
        DownloadMbpsPerUser = "download_mbps_per_user",
        /// Upload throughput each concurrent user needs, judged per site.
        UploadMbpsPerUser = "upload_mbps_per_user",
        /// The longest round trip to the product.
        MaxRttMs = "max_rtt_ms",
        /// The most jitter.
        MaxJitterMs = "max_jitter_ms",
        /// The most packet loss.
        MaxLossPercent = "max_loss_percent",
    }
}

impl NetworkKey {
    /// Whether it is a throughput need per user, judged per site from the devices together.
    pub fn is_per_user_throughput(self) -> bool {
        matches!(
            self,
            NetworkKey::DownloadMbpsPerUser | NetworkKey::UploadMbpsPerUser
        )
    }
}

/// A requirement id, or the id a check result is filed under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequirementId {
    /// `dns[i]`: the profile's `i`-th `[[dns]]` entry.
    Dns(usize),
    /// `http[i]`.
    Http(usize),
    /// `ports[i]`.
    Port(usize),
    /// `ports[i].tcp443`: the TCP 443 check beside a STUN port (a result, not a requirement).
    PortFallback(usize),
    /// `network`: the latency and throughput measurements' results.
    NetworkMeasure,
    /// `network.KEY`: a network need (`max_rtt_ms`, `download_mbps_per_user`).
    Network(NetworkKey),
    /// `device.KEY`: a device minimum (`ram_min_gib`, `os`).
    Device(DeviceKey),
    /// `software[i]`: the profile's `i`-th `[[software]]` entry.
    Software(usize),
    /// `data.elements[i]`: the `i`-th element of the profile's `[data]`.
    DataElement(usize),
    /// `data.endpoint`: the vendor's transfer endpoint, checked from the machines that send.
    DataEndpoint,
    /// Anything else a report carries: kept as written, never guessed at.
    Other(String),
}

impl RequirementId {
    /// Reads an id as reports write it.
    pub fn parse(text: &str) -> RequirementId {
        let indexed = |prefix: &str| -> Option<(usize, &str)> {
            let rest = text.strip_prefix(prefix)?;
            let (index, after) = rest.split_once(']')?;
            let index = index.parse().ok()?;
            Some((index, after))
        };
        if let Some((i, "")) = indexed("dns[") {
            return RequirementId::Dns(i);
        }
        if let Some((i, "")) = indexed("http[") {
            return RequirementId::Http(i);
        }
        if let Some((i, after)) = indexed("ports[") {
            match after.strip_prefix('.') {
                None if after.is_empty() => return RequirementId::Port(i),
                Some(TCP_FALLBACK) => return RequirementId::PortFallback(i),
                _ => {}
            }
        }
        if let Some((i, "")) = indexed("software[") {
            return RequirementId::Software(i);
        }
        if let Some((i, "")) = indexed("data.elements[") {
            return RequirementId::DataElement(i);
        }
        if text == "data.endpoint" {
            return RequirementId::DataEndpoint;
        }
        if text == "network" {
            return RequirementId::NetworkMeasure;
        }
        if let Some(key) = text.strip_prefix("network.").and_then(NetworkKey::parse) {
            return RequirementId::Network(key);
        }
        if let Some(key) = text.strip_prefix("device.").and_then(DeviceKey::parse) {
            return RequirementId::Device(key);
        }
        RequirementId::Other(text.to_owned())
    }

    /// The profile's port entry a port requirement or its fallback check belongs to.
    pub fn port_index(&self) -> Option<usize> {
        match self {
            RequirementId::Port(i) | RequirementId::PortFallback(i) => Some(*i),
            _ => None,
        }
    }

    /// The TCP 443 fallback check beside port entry `ports[i]`.
    pub fn fallback(&self) -> Option<RequirementId> {
        match self {
            RequirementId::Port(i) => Some(RequirementId::PortFallback(*i)),
            _ => None,
        }
    }

    /// The key of a device minimum (`ram_min_gib` of `device.ram_min_gib`).
    pub fn device_key(&self) -> Option<DeviceKey> {
        match self {
            RequirementId::Device(key) => Some(*key),
            _ => None,
        }
    }

    /// Whether this is a throughput need per user, judged per site from the devices together.
    pub fn is_per_user_throughput(&self) -> bool {
        matches!(self, RequirementId::Network(key) if key.is_per_user_throughput())
    }

    /// Whether a check result filed under `result` is evidence for this requirement: its own
    /// results, a port's fallback check, and for a network need the measurement it is judged
    /// from (throughput for a per-user need, latency for the others).
    pub fn served_by(&self, result: &RequirementId, throughput: bool) -> bool {
        if result == self {
            return true;
        }
        match (self, result) {
            (RequirementId::Port(i), RequirementId::PortFallback(j)) => i == j,
            (RequirementId::Network(_), RequirementId::NetworkMeasure) => {
                throughput == self.is_per_user_throughput()
            }
            _ => false,
        }
    }
}

impl fmt::Display for RequirementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequirementId::Dns(i) => write!(f, "dns[{i}]"),
            RequirementId::Http(i) => write!(f, "http[{i}]"),
            RequirementId::Port(i) => write!(f, "ports[{i}]"),
            RequirementId::PortFallback(i) => write!(f, "ports[{i}].{TCP_FALLBACK}"),
            RequirementId::NetworkMeasure => f.write_str("network"),
            RequirementId::Network(key) => write!(f, "network.{key}"),
            RequirementId::Device(key) => write!(f, "device.{key}"),
            RequirementId::Software(i) => write!(f, "software[{i}]"),
            RequirementId::DataElement(i) => write!(f, "data.elements[{i}]"),
            RequirementId::DataEndpoint => f.write_str("data.endpoint"),
            RequirementId::Other(text) => f.write_str(text),
        }
    }
}

impl Serialize for RequirementId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RequirementId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <Cow<'de, str>>::deserialize(d)?;
        Ok(RequirementId::parse(&text))
    }
}

/// In a schema, an id is the string reports carry.
impl JsonSchema for RequirementId {
    fn schema_name() -> Cow<'static, str> {
        "RequirementId".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

impl From<&str> for RequirementId {
    fn from(text: &str) -> Self {
        RequirementId::parse(text)
    }
}

impl PartialEq<str> for RequirementId {
    fn eq(&self, other: &str) -> bool {
        *self == RequirementId::parse(other)
    }
}

impl PartialEq<&str> for RequirementId {
    fn eq(&self, other: &&str) -> bool {
        *self == RequirementId::parse(other)
    }
}

#[cfg(test)]
mod tests {
    use super::{DeviceKey, NetworkKey, RequirementId as R};

    #[test]
    fn every_id_reads_back_as_written() {
        let ids = [
            R::Dns(0),
            R::Http(12),
            R::Port(3),
            R::PortFallback(3),
            R::NetworkMeasure,
            R::Network(NetworkKey::MaxRttMs),
            R::Network(NetworkKey::DownloadMbpsPerUser),
            R::Device(DeviceKey::RamMinGib),
            R::Software(2),
            R::DataElement(4),
            R::DataEndpoint,
        ];
        let keys = DeviceKey::ALL
            .iter()
            .map(|k| R::Device(*k))
            .chain(NetworkKey::ALL.iter().map(|k| R::Network(*k)));
        for id in ids.into_iter().chain(keys) {
            assert_eq!(R::parse(&id.to_string()), id, "{id}");
        }
        assert_eq!(R::Port(3).to_string(), "ports[3]");
        assert_eq!(R::PortFallback(1).to_string(), "ports[1].tcp443");
    }

    #[test]
    fn what_is_not_an_id_is_kept_as_written() {
        for text in [
            "dns[x]",
            "ports[1].udp",
            "ports[2",
            "network.",
            "device.",
            "network.max_speed",
            "device.ram",
            "data.elements[]",
            "data.elements",
            "software[-1]",
            "",
            "foo",
        ] {
            assert_eq!(R::parse(text), R::Other(text.into()), "{text}");
            assert_eq!(R::parse(text).to_string(), text);
        }
    }

    #[test]
    fn a_requirement_is_served_by_its_own_and_its_measurements_results() {
        let rtt = R::Network(NetworkKey::MaxRttMs);
        let down = R::Network(NetworkKey::DownloadMbpsPerUser);
        assert!(R::Port(1).served_by(&R::PortFallback(1), false));
        assert!(!R::Port(1).served_by(&R::PortFallback(2), false));
        assert!(rtt.served_by(&R::NetworkMeasure, false));
        assert!(!rtt.served_by(&R::NetworkMeasure, true));
        assert!(down.served_by(&R::NetworkMeasure, true));
        assert!(!down.served_by(&R::NetworkMeasure, false));
        assert!(R::Dns(0).served_by(&R::Dns(0), false));
        assert!(!R::Dns(0).served_by(&R::Dns(1), false));
    }
}
