//! `[[software]]`: the client apps, runtimes, extensions and packages a product needs on the
//! device beside it, or that conflict with it, and the versions its vendor supports.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::OsFamily;
use super::validate::{Collector, Seg, at};
use crate::software::{SoftwareKind, VersionScheme};

fn yes() -> bool {
    true
}

/// Whether the product needs the software present or absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// It must be installed (and enabled, for an extension or app).
    #[default]
    Present,
    /// It conflicts with the product and must not be installed (or must be disabled).
    Absent,
}

/// One piece of software the product needs, or cannot run beside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftwareRequirement {
    /// What kind of software: `package`, `executable`, `flatpak`, `snap`, `runtime`,
    /// `chrome_extension`, `chrome_app`, `kiosk_app`, `android_app` or `web_app`.
    pub kind: SoftwareKind,
    /// Its identifier in its ecosystem: the package name, the program's file name, the Flatpak
    /// or Android id, the snap name, the runtime (`java`, `dotnet`, `python`, `node`), the
    /// Web Store id, or a web app's start address.
    pub id: String,
    /// The name people know it by (`TestNav`, `Read&Write for Google Chrome`).
    pub name: String,
    /// The OS families it is needed on; empty: every family the kind exists on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<OsFamily>,
    /// `present` (default) or `absent` (it conflicts with the product).
    #[serde(default)]
    pub presence: Presence,
    /// Oldest supported version, in the kind's own version rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    /// Newest supported release; it covers its builds (`131` allows `131.0.6778.85`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
    /// Releases the vendor excludes; each covers its builds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_versions: Vec<String>,
    /// Whether the product cannot work without it (default true).
    #[serde(default = "yes")]
    pub critical: bool,
    /// What the product uses it for, in the vendor's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The vendor page that states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Anything the vendor adds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SoftwareRequirement {
    /// The families it applies on, defaults included.
    pub fn families(&self) -> Vec<OsFamily> {
        if self.os.is_empty() {
            self.kind.families().to_vec()
        } else {
            self.os.clone()
        }
    }

    /// Whether it names any version bound.
    pub fn has_versions(&self) -> bool {
        self.min_version.is_some()
            || self.max_version.is_some()
            || !self.exclude_versions.is_empty()
    }
}

/// The checks of every `[[software]]` entry.
pub(super) fn validate(c: &mut Collector, entries: &[SoftwareRequirement]) {
    let mut seen = HashSet::new();
    for (i, s) in entries.iter().enumerate() {
        let base = [Seg::Key("software"), Seg::Index(i)];
        if let Err(e) = s.kind.check_id(&s.id) {
            c.push(at(&base, &[Seg::Key("id")]), e);
        }
        if s.name.trim().is_empty() {
            c.push(
                at(&base, &[Seg::Key("name")]),
                "is empty; give the name people know the software by",
            );
        }
        let mut families = HashSet::new();
        for (j, f) in s.os.iter().enumerate() {
            let path = at(&base, &[Seg::Key("os"), Seg::Index(j)]);
            if !s.kind.families().contains(f) {
                let known: Vec<String> =
                    s.kind.families().iter().map(ToString::to_string).collect();
                c.push(
                    path,
                    format!(
                        "a {} does not exist on {f}; kind {} applies to {}",
                        s.kind.words(),
                        s.kind,
                        known.join(", ")
                    ),
                );
            } else if !families.insert(*f) {
                c.push(path, format!("{f} is listed twice"));
            }
        }
        // One entry per software and OS family: a vendor may ask different versions of one
        // app on different systems, never two windows on one.
        let twice: Vec<String> = s
            .families()
            .into_iter()
            .filter(|f| !seen.insert((s.kind, s.id.clone(), s.presence, *f)))
            .map(|f| f.to_string())
            .collect();
        if !twice.is_empty() {
            c.push(
                at(&base, &[Seg::Key("id")]),
                format!(
                    "{} {:?} is listed twice for {}; keep one entry per software and OS family",
                    s.kind,
                    s.id,
                    twice.join(", ")
                ),
            );
        }
        if let Some(src) = &s.source
            && !(src.starts_with("https://") || src.starts_with("http://"))
        {
            c.push(
                at(&base, &[Seg::Key("source")]),
                format!("{src:?} is not an http(s) URL of the vendor's page"),
            );
        }
        if s.presence == Presence::Absent && s.has_versions() {
            c.push(
                at(&base, &[Seg::Key("presence")]),
                "is absent but versions are set: a conflicting program conflicts whatever its version; remove the versions",
            );
            continue;
        }
        check_versions(c, &base, s);
    }
}

/// Each version reads under the kind's rules, and the window is not empty.
fn check_versions(c: &mut Collector, base: &[Seg], s: &SoftwareRequirement) {
    let valid = |v: &str| -> Result<(), String> {
        s.kind
            .schemes()
            .iter()
            .try_for_each(|scheme| scheme.check(v))
    };
    let mut ok = true;
    for (key, v) in [
        ("min_version", &s.min_version),
        ("max_version", &s.max_version),
    ] {
        if let Some(v) = v
            && let Err(e) = valid(v)
        {
            c.push(at(base, &[Seg::Key(key)]), e);
            ok = false;
        }
    }
    for (j, v) in s.exclude_versions.iter().enumerate() {
        if let Err(e) = valid(v) {
            c.push(at(base, &[Seg::Key("exclude_versions"), Seg::Index(j)]), e);
            ok = false;
        }
    }
    let scheme = s
        .kind
        .schemes()
        .first()
        .copied()
        .unwrap_or(VersionScheme::Semantic);
    if ok {
        check_window(
            c,
            base,
            scheme,
            s.min_version.as_deref(),
            s.max_version.as_deref(),
            &s.exclude_versions,
        );
    }
}

/// `min_version` ≤ `max_version`, and no exclusion outside them or listed twice.
pub(super) fn check_window(
    c: &mut Collector,
    base: &[Seg],
    scheme: VersionScheme,
    min: Option<&str>,
    max: Option<&str>,
    exclude: &[String],
) {
    use std::cmp::Ordering::Greater;
    if let (Some(lo), Some(hi)) = (min, max)
        && scheme.compare(lo, hi) == Some(Greater)
        && !scheme.is_under(lo, hi)
    {
        c.push(
            at(base, &[Seg::Key("max_version")]),
            format!("{hi:?} is older than min_version {lo:?}; no version could meet both"),
        );
    }
    let mut seen = HashSet::new();
    for (j, x) in exclude.iter().enumerate() {
        let path = at(base, &[Seg::Key("exclude_versions"), Seg::Index(j)]);
        if !seen.insert(x.as_str()) {
            c.push(path, format!("{x:?} is listed twice"));
            continue;
        }
        let below = min.is_some_and(|lo| {
            scheme.compare(x, lo) == Some(std::cmp::Ordering::Less) && !scheme.is_under(lo, x)
        });
        let above =
            max.is_some_and(|hi| scheme.compare(x, hi) == Some(Greater) && !scheme.is_under(x, hi));
        if below || above {
            c.push(
                path,
                format!(
                    "{x:?} lies outside min_version..max_version and excludes nothing; remove it"
                ),
            );
        }
    }
}
