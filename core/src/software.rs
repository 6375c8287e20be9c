//! Software on a device: the kinds a profile can require (an OS package, a program on the
//! path, a Flatpak, a Snap, a runtime, a Chrome extension or app, …), which agent can see each
//! kind and where, and how each ecosystem orders its versions.
//!
//! Versions are compared by the rules of the place they were read from: Debian's ordering for
//! dpkg (epochs, `~` before anything), RPM's for rpm, Chrome's dotted numbers (at most four)
//! for extensions, apps and ChromeOS, and semantic versions for everything else (a leading `v`
//! dropped, missing components counting as zero, more than three compared as dotted numbers).
//!
//! A version a profile names in `max_version` or `exclude_versions` stands for that release and
//! every build under it: `131` covers `131.0.6778.85`, `2.3` covers `2.3-1`, `2.3.1` and
//! `2.3~rc1`, but not `2.30`.

use std::cmp::Ordering;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::os::OsFamily;
use crate::version::Version;

/// What kind of software a requirement names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SoftwareKind {
    /// An OS package by its package name (`zoom`, `openjdk-17-jre`), from dpkg or rpm.
    Package,
    /// A program on the search path by its file name (`java`, `teams-for-linux`), asked for
    /// `--version`.
    Executable,
    /// A Flatpak application by its id (`us.zoom.Zoom`).
    Flatpak,
    /// A Snap by its name (`zoom-client`).
    Snap,
    /// A language runtime by name (`java`, `dotnet`, `python`, `node`), found by its program.
    Runtime,
    /// A Chrome extension by its Web Store id (32 letters a–p).
    ChromeExtension,
    /// A Chrome app (packaged or hosted) by its id.
    ChromeApp,
    /// A ChromeOS kiosk app by its id: it runs only in a kiosk session.
    KioskApp,
    /// An Android app on ChromeOS or Android by its package name.
    AndroidApp,
    /// An installed web app (PWA) by its start address.
    WebApp,
}

impl SoftwareKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [SoftwareKind; 10] = [
        SoftwareKind::Package,
        SoftwareKind::Executable,
        SoftwareKind::Flatpak,
        SoftwareKind::Snap,
        SoftwareKind::Runtime,
        SoftwareKind::ChromeExtension,
        SoftwareKind::ChromeApp,
        SoftwareKind::KioskApp,
        SoftwareKind::AndroidApp,
        SoftwareKind::WebApp,
    ];

    /// The word profiles and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            SoftwareKind::Package => "package",
            SoftwareKind::Executable => "executable",
            SoftwareKind::Flatpak => "flatpak",
            SoftwareKind::Snap => "snap",
            SoftwareKind::Runtime => "runtime",
            SoftwareKind::ChromeExtension => "chrome_extension",
            SoftwareKind::ChromeApp => "chrome_app",
            SoftwareKind::KioskApp => "kiosk_app",
            SoftwareKind::AndroidApp => "android_app",
            SoftwareKind::WebApp => "web_app",
        }
    }

    /// The kind in a reader's words.
    pub fn words(self) -> &'static str {
        match self {
            SoftwareKind::Package => "OS package",
            SoftwareKind::Executable => "program",
            SoftwareKind::Flatpak => "Flatpak",
            SoftwareKind::Snap => "Snap",
            SoftwareKind::Runtime => "runtime",
            SoftwareKind::ChromeExtension => "Chrome extension",
            SoftwareKind::ChromeApp => "Chrome app",
            SoftwareKind::KioskApp => "ChromeOS kiosk app",
            SoftwareKind::AndroidApp => "Android app",
            SoftwareKind::WebApp => "installed web app",
        }
    }

    /// The OS families the kind exists on; a requirement naming no family applies on these.
    pub fn families(self) -> &'static [OsFamily] {
        use OsFamily::*;
        match self {
            SoftwareKind::Package | SoftwareKind::Flatpak | SoftwareKind::Snap => &[Linux],
            SoftwareKind::Executable | SoftwareKind::Runtime => &[Linux, Windows, Macos],
            SoftwareKind::ChromeExtension | SoftwareKind::ChromeApp | SoftwareKind::WebApp => {
                &[Chromeos, Windows, Macos, Linux]
            }
            SoftwareKind::KioskApp => &[Chromeos],
            SoftwareKind::AndroidApp => &[Chromeos, Android],
        }
    }

    /// Where an agent reads the kind. Empty: no agent can see it (a kiosk app from a user's
    /// session, an Android app or a web app from an extension), so it is never judged met.
    pub fn sources(self) -> &'static [SoftwareSource] {
        match self {
            SoftwareKind::Package => &[SoftwareSource::Dpkg, SoftwareSource::Rpm],
            SoftwareKind::Executable | SoftwareKind::Runtime => &[SoftwareSource::Path],
            SoftwareKind::Flatpak => &[SoftwareSource::Flatpak],
            SoftwareKind::Snap => &[SoftwareSource::Snap],
            SoftwareKind::ChromeExtension | SoftwareKind::ChromeApp => {
                &[SoftwareSource::ChromeManagement]
            }
            SoftwareKind::KioskApp | SoftwareKind::AndroidApp | SoftwareKind::WebApp => &[],
        }
    }

    /// Why no agent sees the kind, for the kinds with no source.
    pub fn unobservable_reason(self) -> Option<&'static str> {
        match self {
            SoftwareKind::KioskApp => Some(
                "a kiosk app is installed only in a kiosk session, which no agent runs in; \
                 confirm it in the Google Admin console (Devices → Chrome → Apps & extensions → Kiosks)",
            ),
            SoftwareKind::AndroidApp => Some(
                "Android apps are not observable from an extension (chrome.management lists \
                 extensions and Chrome apps only); confirm them in the Google Admin console",
            ),
            SoftwareKind::WebApp => Some(
                "installed web apps are not observable from an extension (chrome.management \
                 does not list them); confirm the force-installed web apps in the Google Admin console",
            ),
            _ => None,
        }
    }

    /// The version ordering of what `source` reports.
    pub fn scheme(self, source: SoftwareSource) -> VersionScheme {
        match (self, source) {
            (_, SoftwareSource::Dpkg) => VersionScheme::Debian,
            (_, SoftwareSource::Rpm) => VersionScheme::Rpm,
            (_, SoftwareSource::ChromeManagement) => VersionScheme::Chrome,
            (
                SoftwareKind::ChromeExtension | SoftwareKind::ChromeApp | SoftwareKind::KioskApp,
                _,
            ) => VersionScheme::Chrome,
            _ => VersionScheme::Semantic,
        }
    }

    /// The schemes a profile's version for this kind must read under.
    pub fn schemes(self) -> &'static [VersionScheme] {
        match self {
            SoftwareKind::Package => &[VersionScheme::Debian, VersionScheme::Rpm],
            SoftwareKind::ChromeExtension | SoftwareKind::ChromeApp | SoftwareKind::KioskApp => {
                &[VersionScheme::Chrome]
            }
            _ => &[VersionScheme::Semantic],
        }
    }

    /// Whether `id` is a well-formed identifier of this kind; the error says what is expected.
    pub fn check_id(self, id: &str) -> Result<(), String> {
        let ok = match self {
            SoftwareKind::Package => {
                id.len() >= 2
                    && id.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-._".contains(c))
            }
            SoftwareKind::Executable => {
                !id.is_empty()
                    && !id.starts_with('-')
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-._".contains(c))
            }
            SoftwareKind::Flatpak => {
                let parts: Vec<&str> = id.split('.').collect();
                parts.len() >= 3
                    && parts.iter().all(|p| {
                        !p.is_empty()
                            && !p.starts_with(|c: char| c.is_ascii_digit())
                            && p.chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    })
            }
            SoftwareKind::Snap => {
                !id.is_empty()
                    && id.len() <= 40
                    && !id.starts_with('-')
                    && !id.ends_with('-')
                    && id.chars().any(|c| c.is_ascii_lowercase())
                    && id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            }
            SoftwareKind::Runtime => Runtime::from_name(id).is_some(),
            SoftwareKind::ChromeExtension | SoftwareKind::ChromeApp | SoftwareKind::KioskApp => {
                id.len() == 32 && id.chars().all(|c| ('a'..='p').contains(&c))
            }
            SoftwareKind::AndroidApp => {
                let parts: Vec<&str> = id.split('.').collect();
                parts.len() >= 2
                    && parts.iter().all(|p| {
                        p.starts_with(|c: char| c.is_ascii_alphabetic())
                            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
            }
            SoftwareKind::WebApp => id.starts_with("https://") && id.len() > "https://".len(),
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            SoftwareKind::Package => format!(
                "{id:?} is not a package name: lowercase letters, digits and + - . _ (as `dpkg -l` or `rpm -qa` shows it)"
            ),
            SoftwareKind::Executable => format!(
                "{id:?} is not a program's file name: letters, digits and + - . _, no path (it is looked up on the search path)"
            ),
            SoftwareKind::Flatpak => format!(
                "{id:?} is not a Flatpak application id: reverse-DNS with at least three parts (us.zoom.Zoom)"
            ),
            SoftwareKind::Snap => format!(
                "{id:?} is not a snap name: lowercase letters, digits and dashes (zoom-client)"
            ),
            SoftwareKind::Runtime => format!(
                "{id:?} is not a runtime fitcheck knows: use one of {}",
                Runtime::ALL
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SoftwareKind::ChromeExtension | SoftwareKind::ChromeApp | SoftwareKind::KioskApp => {
                format!(
                    "{id:?} is not a Chrome Web Store id: 32 letters a–p (from the item's Web Store address)"
                )
            }
            SoftwareKind::AndroidApp => {
                format!("{id:?} is not an Android package name: dotted, like com.example.app")
            }
            SoftwareKind::WebApp => {
                format!("{id:?} is not a web app's start address: an https:// URL")
            }
        })
    }
}

impl fmt::Display for SoftwareKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an agent read what is installed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SoftwareSource {
    /// Debian's package database (`/var/lib/dpkg/status`).
    Dpkg,
    /// The RPM database, through `rpm -q`.
    Rpm,
    /// Flatpak's installations (system and the agent user's).
    Flatpak,
    /// Snaps mounted under `/snap`.
    Snap,
    /// The search path, each named program asked for `--version`.
    Path,
    /// The browser's `chrome.management` (extensions and Chrome apps).
    ChromeManagement,
}

impl SoftwareSource {
    /// The word reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            SoftwareSource::Dpkg => "dpkg",
            SoftwareSource::Rpm => "rpm",
            SoftwareSource::Flatpak => "flatpak",
            SoftwareSource::Snap => "snap",
            SoftwareSource::Path => "path",
            SoftwareSource::ChromeManagement => "chrome.management",
        }
    }
}

impl fmt::Display for SoftwareSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A runtime fitcheck can find: its program, the arguments that make it print its version,
/// and how to read that version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Java,
    Dotnet,
    Python,
    Node,
}

impl Runtime {
    pub const ALL: [Runtime; 4] = [
        Runtime::Java,
        Runtime::Dotnet,
        Runtime::Python,
        Runtime::Node,
    ];

    /// The name profiles use.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Java => "java",
            Runtime::Dotnet => "dotnet",
            Runtime::Python => "python",
            Runtime::Node => "node",
        }
    }

    /// The runtime a profile names.
    pub fn from_name(name: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Programs to look for, in order, and the arguments that print the version.
    pub fn programs(self) -> &'static [&'static str] {
        match self {
            Runtime::Java => &["java"],
            Runtime::Dotnet => &["dotnet"],
            Runtime::Python => &["python3", "python"],
            Runtime::Node => &["node", "nodejs"],
        }
    }

    /// The arguments that make the program print its runtime's version. `java -version` writes
    /// `openjdk version "21.0.5" 2024-10-15` on standard error; `dotnet --list-runtimes` lists
    /// each installed runtime (`Microsoft.NETCore.App 8.0.11 [/usr/lib/dotnet/shared/…]`).
    pub fn version_args(self) -> &'static [&'static str] {
        match self {
            Runtime::Java => &["-version"],
            Runtime::Dotnet => &["--list-runtimes"],
            Runtime::Python | Runtime::Node => &["--version"],
        }
    }

    /// The newest version the program's output names.
    pub fn version_in(self, output: &str) -> Option<String> {
        match self {
            Runtime::Java => {
                let line = output.lines().find(|l| l.contains("version"))?;
                let quoted = line.split('"').nth(1)?;
                Some(java_version(quoted))
            }
            Runtime::Dotnet => output
                .lines()
                .filter_map(|l| l.strip_prefix("Microsoft.NETCore.App "))
                .filter_map(|l| l.split_whitespace().next())
                .max_by(|a, b| {
                    VersionScheme::Semantic
                        .compare(a, b)
                        .unwrap_or(Ordering::Equal)
                })
                .map(str::to_owned),
            Runtime::Python | Runtime::Node => first_version_token(output),
        }
    }
}

/// Java's own versions before 9 are `1.8.0_402`: release 8, update 402.
fn java_version(quoted: &str) -> String {
    match quoted.strip_prefix("1.") {
        Some(rest) => {
            let (major, update) = rest.split_once("_").unwrap_or((rest, "0"));
            let major = major.split('.').next().unwrap_or(major);
            format!("{major}.0.{update}")
        }
        None => quoted.to_owned(),
    }
}

/// The first whitespace-separated word of `text` that starts with a digit (or `v` and a
/// digit): "Python 3.11.2" gives 3.11.2, "v20.11.1" gives v20.11.1, "teams-for-linux 1.4.27"
/// gives 1.4.27.
pub fn first_version_token(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| matches!(c, ',' | ';' | '(' | ')' | '"' | '\'')))
        .find(|w| {
            let w = w.strip_prefix(['v', 'V']).unwrap_or(w);
            w.starts_with(|c: char| c.is_ascii_digit()) && w.contains('.')
        })
        .map(str::to_owned)
}

/// How an ecosystem orders its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionScheme {
    /// Debian Policy 5.6.12: `[epoch:]upstream[-revision]`, `~` sorting before anything.
    Debian,
    /// RPM's `rpmvercmp` on `[epoch:]version[-release]`.
    Rpm,
    /// Chrome's dotted numbers, at most four (`131.0.6778.85`).
    Chrome,
    /// Semantic versions, leniently: a leading `v` dropped, `1.2` read as `1.2.0`, more than
    /// three components compared as dotted numbers.
    Semantic,
}

impl VersionScheme {
    /// The scheme's name in errors.
    pub fn words(self) -> &'static str {
        match self {
            VersionScheme::Debian => "a Debian package version",
            VersionScheme::Rpm => "an RPM package version",
            VersionScheme::Chrome => "a Chrome version (dotted numbers, at most four)",
            VersionScheme::Semantic => "a version (dotted numbers, optionally -pre-release)",
        }
    }

    /// Whether `text` is a version of this scheme.
    pub fn check(self, text: &str) -> Result<(), String> {
        let ok = match self {
            // Policy: the upstream version should start with a digit (dpkg warns otherwise).
            VersionScheme::Debian => text
                .parse::<debversion::Version>()
                .is_ok_and(|v| v.upstream_version.starts_with(|c: char| c.is_ascii_digit())),
            VersionScheme::Rpm => {
                !text.is_empty()
                    && text.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && !text.chars().any(char::is_whitespace)
            }
            VersionScheme::Chrome => chrome(text).is_some(),
            VersionScheme::Semantic => Semantic::parse(text).is_some(),
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{text:?} is not {}", self.words()))
        }
    }

    /// Orders two versions; `None` when either does not read under the scheme.
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        match self {
            VersionScheme::Debian => {
                let a: debversion::Version = a.parse().ok()?;
                let b: debversion::Version = b.parse().ok()?;
                Some(a.cmp(&b))
            }
            VersionScheme::Rpm => {
                self.check(a).ok()?;
                self.check(b).ok()?;
                Some(rpm_version::rpm_evr_compare(a, b))
            }
            VersionScheme::Chrome => Some(chrome(a)?.cmp(&chrome(b)?)),
            VersionScheme::Semantic => Some(Semantic::parse(a)?.cmp(&Semantic::parse(b)?)),
        }
    }

    /// Whether `found` is the release `named` or a build under it (`131.0.6778.85` under
    /// `131`; `2.3-1`, `2.3.1` and `2.3~rc1` under `2.3`, `2.30` not).
    pub fn is_under(self, found: &str, named: &str) -> bool {
        if self.compare(found, named) == Some(Ordering::Equal) {
            return true;
        }
        match self {
            VersionScheme::Debian => {
                let (Ok(f), Ok(n)) = (
                    found.parse::<debversion::Version>(),
                    named.parse::<debversion::Version>(),
                ) else {
                    return false;
                };
                n.debian_revision.is_none()
                    && n.epoch.unwrap_or(0) == f.epoch.unwrap_or(0)
                    && components_start_with(&f.upstream_version, &n.upstream_version)
            }
            VersionScheme::Rpm => {
                let f = rpm_version::Evr::parse(found);
                let n = rpm_version::Evr::parse(named);
                let epoch = |e: &str| e.trim_start_matches('0').to_owned();
                n.release().is_empty()
                    && epoch(n.epoch()) == epoch(f.epoch())
                    && components_start_with(f.version(), n.version())
            }
            VersionScheme::Chrome | VersionScheme::Semantic => {
                let strip =
                    |v: &str| -> String { v.strip_prefix(['v', 'V']).unwrap_or(v).to_owned() };
                let named = strip(named);
                !named.contains(['-', '+']) && components_start_with(&strip(found), &named)
            }
        }
    }

    /// The release after `named`, for "update to 132 or later": its last number plus one.
    /// `None` where the scheme's releases are not plain numbers.
    pub fn next_release(self, named: &str) -> Option<String> {
        let mut parts = plain_numbers(self, named)?;
        let last = parts.last_mut()?;
        *last = last.checked_add(1)?;
        Some(join(&parts))
    }

    /// The release before `named`, for "hold at 130": its last number minus one.
    pub fn previous_release(self, named: &str) -> Option<String> {
        let mut parts = plain_numbers(self, named)?;
        let last = parts.last_mut()?;
        *last = last.checked_sub(1)?;
        Some(join(&parts))
    }
}

fn plain_numbers(scheme: VersionScheme, text: &str) -> Option<Vec<u64>> {
    if matches!(scheme, VersionScheme::Debian | VersionScheme::Rpm) {
        return None;
    }
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    text.split('.').map(|p| p.parse().ok()).collect()
}

fn join(parts: &[u64]) -> String {
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether the version `found`, split at `.`, `~`, `+`, `-` and `:`, begins with every
/// component of `named`.
fn components_start_with(found: &str, named: &str) -> bool {
    let split = |s: &str| -> Vec<String> {
        s.split(['.', '~', '+', '-', ':', '_', '^'])
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (f, n) = (split(found), split(named));
    !n.is_empty() && f.len() >= n.len() && f.iter().zip(&n).all(|(a, b)| a == b)
}

/// A Chrome version: one to four dotted numbers.
fn chrome(text: &str) -> Option<Version> {
    let t = text.trim();
    if t.split('.').count() > 4 {
        return None;
    }
    t.parse().ok()
}

/// A lenient semantic version.
#[derive(Debug, PartialEq, Eq)]
struct Semantic {
    numbers: Version,
    pre: Option<semver::Prerelease>,
}

impl Semantic {
    fn parse(text: &str) -> Option<Semantic> {
        let t = text.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let t = t.split('+').next()?;
        let (nums, pre) = match t.split_once('-') {
            Some((n, p)) => (n, Some(semver::Prerelease::new(p).ok()?)),
            None => (t, None),
        };
        if nums.split('.').count() > 8 {
            return None;
        }
        let numbers: Version = nums.parse().ok()?;
        Some(Semantic {
            numbers,
            pre: pre.filter(|p| !p.is_empty()),
        })
    }
}

impl Ord for Semantic {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers
            .cmp(&other.numbers)
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

impl PartialOrd for Semantic {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::VersionScheme::{Chrome, Debian, Rpm, Semantic};
    use super::*;
    use std::cmp::Ordering::{Equal, Greater, Less};

    #[test]
    fn debian_versions_follow_debian_policy() {
        let cases = [
            ("1.0~rc1-1", "1.0-1", Less),
            ("1:0.9-1", "1.0-1", Greater),
            ("1.0-1", "1.0-1ubuntu0.22.04.1", Less),
            ("2.30-1", "2.4-1", Greater),
            ("1.0", "1.0-0", Equal),
            ("1.0+dfsg-2", "1.0-2", Greater),
            ("5.17.11.3835", "5.17.5.2543", Greater),
            ("1.0~~a", "1.0~", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(Debian.compare(a, b), Some(want), "{a} vs {b}");
        }
        assert!(Debian.check("1:2.3-1").is_ok());
        assert!(Debian.check("not a version").is_err());
        assert!(Debian.check("a1.0").is_err());
    }

    #[test]
    fn rpm_versions_follow_rpmvercmp() {
        assert_eq!(Rpm.compare("1.2.3-4.el9", "1.2.3-10.el9"), Some(Less));
        assert_eq!(Rpm.compare("1:1.0-1", "2.0-1"), Some(Greater));
        assert_eq!(Rpm.compare("1.0~rc1", "1.0"), Some(Less));
        assert_eq!(Rpm.compare("1.0a", "1.0"), Some(Greater));
    }

    #[test]
    fn chrome_versions_have_at_most_four_numbers() {
        assert_eq!(
            Chrome.compare("131.0.6778.85", "131.0.6778.108"),
            Some(Less)
        );
        assert_eq!(Chrome.compare("132", "131.0.6778.108"), Some(Greater));
        assert_eq!(Chrome.compare("1.2.3.4.5", "1"), None);
        assert!(Chrome.check("131.0.6778.85").is_ok());
        assert!(Chrome.check("1.2.3.4.5").is_err());
        assert!(Chrome.check("131-beta").is_err());
    }

    #[test]
    fn semantic_versions_are_read_leniently() {
        assert_eq!(Semantic.compare("v20.11.1", "20.9.0"), Some(Greater));
        assert_eq!(Semantic.compare("1.2", "1.2.0"), Some(Equal));
        assert_eq!(Semantic.compare("2.0.0-rc.1", "2.0.0"), Some(Less));
        assert_eq!(Semantic.compare("2.0.0-rc.2", "2.0.0-rc.10"), Some(Less));
        assert_eq!(Semantic.compare("21.0.5+11", "21.0.5"), Some(Equal));
        assert_eq!(Semantic.compare("8.0.11.1", "8.0.11"), Some(Greater));
        assert!(Semantic.check("latest").is_err());
    }

    #[test]
    fn a_named_release_covers_its_builds() {
        assert!(Chrome.is_under("131.0.6778.85", "131"));
        assert!(!Chrome.is_under("130.0.6723.1", "131"));
        assert!(!Chrome.is_under("1310.0", "131"));
        assert!(Debian.is_under("2.3-1", "2.3"));
        assert!(Debian.is_under("2.3.1-2", "2.3"));
        assert!(Debian.is_under("2.3~rc1-1", "2.3"));
        assert!(!Debian.is_under("2.30-1", "2.3"));
        assert!(!Debian.is_under("1:2.3-1", "2.3"));
        assert!(Debian.is_under("2.3-1", "2.3-1"));
        assert!(!Debian.is_under("2.3-2", "2.3-1"));
        assert!(Rpm.is_under("2.3.1-4.el9", "2.3"));
        assert!(!Rpm.is_under("2.31-4.el9", "2.3"));
        assert!(Semantic.is_under("v5.1.4", "5.1"));
        assert!(!Semantic.is_under("5.1.4", "5.1.4-rc.1"));
    }

    #[test]
    fn releases_either_side_of_an_excluded_one() {
        assert_eq!(Chrome.next_release("131").as_deref(), Some("132"));
        assert_eq!(Chrome.previous_release("131").as_deref(), Some("130"));
        assert_eq!(Semantic.next_release("5.1").as_deref(), Some("5.2"));
        assert_eq!(Chrome.previous_release("0").as_deref(), None);
        assert_eq!(Debian.next_release("2.3").as_deref(), None);
    }

    #[test]
    fn runtimes_read_their_own_version_lines() {
        let java = "openjdk version \"21.0.5\" 2024-10-15\nOpenJDK Runtime Environment";
        assert_eq!(Runtime::Java.version_in(java).as_deref(), Some("21.0.5"));
        let java8 = "java version \"1.8.0_402\"\nJava(TM) SE Runtime Environment";
        assert_eq!(Runtime::Java.version_in(java8).as_deref(), Some("8.0.402"));
        let dotnet = "Microsoft.AspNetCore.App 8.0.11 [/usr/lib/dotnet]\n\
                      Microsoft.NETCore.App 6.0.36 [/usr/lib/dotnet]\n\
                      Microsoft.NETCore.App 8.0.11 [/usr/lib/dotnet]\n";
        assert_eq!(
            Runtime::Dotnet.version_in(dotnet).as_deref(),
            Some("8.0.11")
        );
        assert_eq!(
            Runtime::Python.version_in("Python 3.11.2").as_deref(),
            Some("3.11.2")
        );
        assert_eq!(
            Runtime::Node.version_in("v20.11.1\n").as_deref(),
            Some("v20.11.1")
        );
        assert_eq!(Runtime::Node.version_in("no version here"), None);
    }

    #[test]
    fn ids_are_checked_per_kind() {
        use SoftwareKind::*;
        assert!(
            ChromeExtension
                .check_id("inoeonmfapjbbkmdafoankkfajkcphgd")
                .is_ok()
        );
        assert!(
            ChromeExtension
                .check_id("inoeonmfapjbbkmdafoankkfajkcphgz")
                .is_err()
        );
        assert!(Package.check_id("openjdk-17-jre").is_ok());
        assert!(Package.check_id("Zoom").is_err());
        assert!(Flatpak.check_id("us.zoom.Zoom").is_ok());
        assert!(Flatpak.check_id("zoom").is_err());
        assert!(Snap.check_id("zoom-client").is_ok());
        assert!(Executable.check_id("/usr/bin/java").is_err());
        assert!(SoftwareKind::Runtime.check_id("java").is_ok());
        assert!(SoftwareKind::Runtime.check_id("cobol").is_err());
        assert!(AndroidApp.check_id("com.collegeboard.bluebook").is_ok());
        assert!(WebApp.check_id("http://insecure.example/").is_err());
    }
}
