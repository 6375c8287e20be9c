//! The filter signatures in force: the catalog built into the agent, then every
//! `/etc/fitcheck/signatures.d/*.toml`, then each `--signatures FILE`, so a district adds its own
//! filter's markers without rebuilding.

use std::path::{Path, PathBuf};

use fitcheck_core::signatures::{Catalog, CatalogError};

pub use fitcheck_core::signatures::BUNDLED;

/// Where a district's own catalog files are picked up.
pub const DISTRICT_DIR: &str = "/etc/fitcheck/signatures.d";

/// A catalog file that could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum SignaturesError {
    #[error("cannot read signature file {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}; fix the file or remove it (see signatures/README.md)")]
    Invalid(#[from] CatalogError),
}

fn district_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Loads the bundled catalog, the district directory and `extra`, in that order.
pub fn load(district_dir: &Path, extra: &[PathBuf]) -> Result<Catalog, SignaturesError> {
    let mut catalog = Catalog::default();
    catalog.add_file("bundled catalog", BUNDLED)?;
    for path in district_files(district_dir).iter().chain(extra) {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SignaturesError::Read(path.display().to_string(), e))?;
        catalog.add_file(&path.display().to_string(), &text)?;
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalog_loads() {
        let c = load(Path::new("/nonexistent"), &[]).unwrap();
        assert_eq!(c.versions.len(), 1);
    }

    #[test]
    fn district_files_add_entries_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("10-district.toml");
        std::fs::write(
            &good,
            "format = 1\nversion = \"d1\"\n[[signature]]\nid = \"district-filter-page\"\nvendor = \"Our Filter\"\nkind = \"block_page\"\nsource = \"https://intranet.district.example/filter\"\nbody = [\"Blocked by the District Web Filter\"]\n",
        )
        .unwrap();
        let base = load(Path::new("/nonexistent"), &[]).unwrap().len();
        let c = load(dir.path(), &[]).unwrap();
        assert_eq!(c.len(), base + 1);
        assert!(
            c.block_page(200, &[], "<h1>Blocked by the District Web Filter</h1>")
                .is_some()
        );
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "format = 1\nversion = 3\n").unwrap();
        let e = load(Path::new("/nonexistent"), &[bad])
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.toml: line 2: invalid type"), "{e}");
    }
}
