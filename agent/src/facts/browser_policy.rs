//! The URL policies of the managed Chrome-family browsers on this device (Linux): which entry of
//! a browser's `URLBlocklist` stops each of the profile's addresses, so the recommendation can
//! name it as the policy holds it.
//!
//! A browser reads every file of its `policies/managed` folder as JSON; where two files set one
//! policy, the later file in name order wins, as Chromium's `ConfigDirPolicyLoader` decides.
//! The older `URLBlacklist` and `URLWhitelist` count where the new names are not set. Firefox's
//! `WebsiteFilter`, Windows' registry and macOS' managed preferences are not read.

use std::path::{Path, PathBuf};

use fitcheck_core::browser_policy::{UrlFilter, UrlPolicy};
use fitcheck_core::profile::Browser;
use fitcheck_core::report::BrowserPolicyBlock;
use url::Url;

use super::FactSources;

/// Each Chrome-family browser's managed policy folder on Linux.
pub const MANAGED_DIRS: [(&str, Browser); 4] = [
    ("etc/opt/chrome/policies/managed", Browser::Chrome),
    ("etc/chromium/policies/managed", Browser::Chromium),
    ("etc/chromium-browser/policies/managed", Browser::Chromium),
    ("etc/opt/edge/policies/managed", Browser::Edge),
];

/// At most this many policy files are read from one folder, each at most this long: a policy
/// file is a few kilobytes, and nothing the agent reads is unbounded.
const MAX_FILES: usize = 64;
const MAX_FILE_BYTES: u64 = 4 << 20;

/// One browser's URL lists and where each was set.
#[derive(Debug, Clone)]
pub struct ManagedUrlPolicy {
    pub browser: Browser,
    pub lists: UrlPolicy,
    /// The policy that set the block list (`URLBlocklist` or `URLBlacklist`).
    pub block_policy: String,
    /// The file that set the block list.
    pub block_source: PathBuf,
}

impl ManagedUrlPolicy {
    /// What blocks `url` in this browser, if anything.
    pub fn block(&self, url: &Url) -> Option<BrowserPolicyBlock> {
        self.lists.blocks(url).map(|f| BrowserPolicyBlock {
            browser: self.browser,
            policy: self.block_policy.clone(),
            entry: f.entry.clone(),
            source: self.block_source.display().to_string(),
        })
    }
}

/// The URL policies of the browsers whose managed folders set a block list. Files that cannot
/// be read or are not JSON are passed over, as the browser passes them over.
pub fn read(sources: &FactSources) -> Vec<ManagedUrlPolicy> {
    let mut out: Vec<ManagedUrlPolicy> = Vec::new();
    for (rel, browser) in MANAGED_DIRS {
        let dir = sources.path(rel);
        let Some(p) = read_dir(&dir, browser) else {
            continue;
        };
        // `/etc/chromium-browser` is often a link to `/etc/chromium`: one policy, not two.
        let same = out.iter().any(|o| {
            o.browser == p.browser && o.lists == p.lists && o.block_policy == p.block_policy
        });
        if !same {
            out.push(p);
        }
    }
    out
}

/// Every policy that blocks `url` on this device.
pub fn blocks(policies: &[ManagedUrlPolicy], url: &str) -> Vec<BrowserPolicyBlock> {
    let Ok(url) = Url::parse(url) else {
        return Vec::new();
    };
    policies.iter().filter_map(|p| p.block(&url)).collect()
}

/// A list policy as the winning file set it: the list's entries and the file.
struct Set {
    entries: Vec<String>,
    file: PathBuf,
}

fn read_dir(dir: &Path, browser: Browser) -> Option<ManagedUrlPolicy> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.truncate(MAX_FILES);
    // Later files win: read in name order, each policy keeps the last file that set it.
    let mut found: [Option<Set>; 4] = [None, None, None, None];
    const NAMES: [&str; 4] = [
        "URLBlocklist",
        "URLAllowlist",
        "URLBlacklist",
        "URLWhitelist",
    ];
    for file in files {
        let Some(doc) = read_json(&file) else {
            continue;
        };
        for (slot, name) in found.iter_mut().zip(NAMES) {
            if let Some(list) = doc.get(name).and_then(|v| v.as_array()) {
                *slot = Some(Set {
                    entries: list
                        .iter()
                        .filter_map(|e| e.as_str().map(str::to_owned))
                        .collect(),
                    file: file.clone(),
                });
            }
        }
    }
    let [block, allow, old_block, old_allow] = found;
    let (block_policy, block) = match (block, old_block) {
        (Some(b), _) => ("URLBlocklist", b),
        (None, Some(b)) => ("URLBlacklist", b),
        (None, None) => return None,
    };
    let allow = allow.or(old_allow);
    // An entry the browser cannot read blocks nothing there either.
    let read = |s: &Set| -> Vec<UrlFilter> {
        s.entries
            .iter()
            .filter_map(|e| UrlFilter::parse(e).ok())
            .collect()
    };
    Some(ManagedUrlPolicy {
        browser,
        lists: UrlPolicy {
            block: read(&block),
            allow: allow.as_ref().map(read).unwrap_or_default(),
        },
        block_policy: block_policy.to_owned(),
        block_source: block.file,
    })
}

fn read_json(file: &Path) -> Option<serde_json::Map<String, serde_json::Value>> {
    use std::io::Read;
    let f = std::fs::File::open(file).ok()?;
    let mut text = String::new();
    f.take(MAX_FILE_BYTES).read_to_string(&mut text).ok()?;
    match serde_json::from_str(&text).ok()? {
        serde_json::Value::Object(m) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, FactSources) {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let sources = FactSources {
            root: dir.path().to_path_buf(),
            use_nvml: false,
        };
        (dir, sources)
    }

    #[test]
    fn the_later_file_sets_a_list_and_the_entry_is_named_with_its_file() {
        let (dir, sources) = tree(&[
            (
                "etc/chromium/policies/managed/10-district.json",
                r#"{"URLBlocklist": ["games.example", "vendor.example"], "URLAllowlist": ["vendor.example/help"]}"#,
            ),
            (
                "etc/chromium/policies/managed/20-school.json",
                r#"{"URLBlocklist": ["vendor.example/app", "*"]}"#,
            ),
            ("etc/chromium/policies/managed/30-broken.json", "{not json"),
            (
                "etc/chromium/policies/managed/.hidden.json",
                r#"{"URLBlocklist": ["vendor.example/help"]}"#,
            ),
            (
                "etc/opt/edge/policies/managed/edge.json",
                r#"{"URLBlacklist": ["vendor.example/help/"], "SomethingElse": true}"#,
            ),
            (
                "etc/opt/chrome/policies/managed/other.json",
                r#"{"HomepageLocation": "https://school.example"}"#,
            ),
        ]);
        let policies = read(&sources);
        assert_eq!(policies.len(), 2, "{policies:#?}");
        let school = dir
            .path()
            .join("etc/chromium/policies/managed/20-school.json")
            .display()
            .to_string();
        let found = blocks(&policies, "https://www.vendor.example/app/lesson");
        assert_eq!(
            found,
            vec![BrowserPolicyBlock {
                browser: Browser::Chromium,
                policy: "URLBlocklist".to_owned(),
                entry: "vendor.example/app".to_owned(),
                source: school.clone(),
            }]
        );
        // The allow list of the earlier file still stands: the later file did not set one.
        let help = blocks(&policies, "https://vendor.example/help/faq");
        assert_eq!(help.len(), 1, "{help:#?}");
        assert_eq!(help[0].browser, Browser::Edge);
        assert_eq!(help[0].policy, "URLBlacklist");
        assert_eq!(help[0].entry, "vendor.example/help/");
        // `*` blocks what nothing more specific decides; the earlier file's games entry is gone.
        let other = blocks(&policies, "https://games.example/");
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].entry, "*");
        assert_eq!(other[0].source, school);
    }

    #[test]
    fn no_policy_folder_blocks_nothing() {
        let (_dir, sources) = tree(&[("etc/os-release", "ID=debian\n")]);
        assert!(read(&sources).is_empty());
        assert!(blocks(&read(&sources), "https://vendor.example/").is_empty());
    }
}
