//! Where an export's files come from: a zip or a folder, opened with the refusals that keep a
//! hostile archive from filling the disk or memory or reaching outside the export.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use super::{InspectError, Limits};
use fitcheck_core::data::summary::SourceKind;

/// One CSV file of the export.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its name inside the export (a single top folder of a zip left out).
    pub name: String,
    /// Its size (as a zip declares it; the read is held to it).
    pub bytes: u64,
    at: Place,
}

impl Entry {
    /// The size a zip entry declares: reading past it is refused (deflate itself does not
    /// hold an entry to its declared size).
    pub fn declared(&self) -> Option<u64> {
        matches!(self.at, Place::Zip(_)).then_some(self.bytes)
    }
}

/// Files a Mac's archiver adds (`__MACOSX/`, `._name`): resource forks, not the export.
fn is_mac_fork(name: &str) -> bool {
    name.split(['/', '\\'])
        .any(|part| part == "__MACOSX" || part.starts_with("._"))
}

#[derive(Debug, Clone)]
enum Place {
    Zip(usize),
    Folder(PathBuf),
}

/// An opened export.
pub struct Source {
    pub kind: SourceKind,
    /// The zip's or folder's own name.
    pub name: String,
    zip: Option<ZipArchive<File>>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .finish()
    }
}

/// Whether a file name ends in `.csv`, in any case. Compared as bytes: a name may hold any
/// character (a zip entry's name is read leniently), and the last four bytes need not start
/// one.
fn is_csv(name: &str) -> bool {
    let name = name.as_bytes();
    name.len() > 4
        && name
            .get(name.len() - 4..)
            .is_some_and(|ext| ext.eq_ignore_ascii_case(b".csv"))
}

impl Source {
    /// Opens `path` (a zip file or a folder) and lists its CSV files.
    pub fn open(path: &Path, limits: &Limits) -> Result<(Source, Vec<Entry>), InspectError> {
        let display = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| InspectError::Open {
            path: display.clone(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| display.clone());
        if meta.is_dir() {
            let entries = folder_entries(path, limits)?;
            return Ok((
                Source {
                    kind: SourceKind::Folder,
                    name,
                    zip: None,
                },
                entries,
            ));
        }
        let file = File::open(path).map_err(|source| InspectError::Open {
            path: display.clone(),
            source,
        })?;
        let mut zip = ZipArchive::new(file).map_err(|e| InspectError::NotAnExport {
            path: display.clone(),
            why: e.to_string(),
        })?;
        let entries = zip_entries(&mut zip, limits)?;
        Ok((
            Source {
                kind: SourceKind::Zip,
                name,
                zip: Some(zip),
            },
            entries,
        ))
    }

    /// Reads one file from its start.
    pub fn read(&mut self, entry: &Entry) -> Result<Box<dyn Read + '_>, InspectError> {
        match (&entry.at, self.zip.as_mut()) {
            (Place::Zip(i), Some(zip)) => {
                let f = zip.by_index(*i).map_err(|e| InspectError::Read {
                    file: entry.name.clone(),
                    why: e.to_string(),
                })?;
                Ok(Box::new(f))
            }
            (Place::Folder(path), _) => {
                let f = File::open(path).map_err(|e| InspectError::Read {
                    file: entry.name.clone(),
                    why: e.to_string(),
                })?;
                Ok(Box::new(f))
            }
            (Place::Zip(_), None) => Err(InspectError::Read {
                file: entry.name.clone(),
                why: "the archive is not open".to_owned(),
            }),
        }
    }
}

fn folder_entries(dir: &Path, limits: &Limits) -> Result<Vec<Entry>, InspectError> {
    let display = dir.display().to_string();
    let read = std::fs::read_dir(dir).map_err(|source| InspectError::Open {
        path: display.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for item in read {
        let item = item.map_err(|source| InspectError::Open {
            path: display.clone(),
            source,
        })?;
        let name = item.file_name().to_string_lossy().into_owned();
        if !is_csv(&name) || is_mac_fork(&name) {
            continue;
        }
        let path = item.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|source| InspectError::Open {
            path: path.display().to_string(),
            source,
        })?;
        if meta.file_type().is_symlink() {
            return Err(InspectError::LeavesExport { entry: name });
        }
        if !meta.is_file() {
            continue;
        }
        limits.check_size(&name, meta.len())?;
        out.push(Entry {
            name,
            bytes: meta.len(),
            at: Place::Folder(path),
        });
        if out.len() > limits.max_files {
            return Err(InspectError::TooManyFiles {
                limit: limits.max_files,
            });
        }
    }
    limits.check_total(&out)?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn zip_entries(zip: &mut ZipArchive<File>, limits: &Limits) -> Result<Vec<Entry>, InspectError> {
    if zip.len() > limits.max_files {
        return Err(InspectError::TooManyFiles {
            limit: limits.max_files,
        });
    }
    let mut raw: Vec<(String, u64, usize)> = Vec::new();
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| InspectError::Read {
            file: format!("entry {i}"),
            why: e.to_string(),
        })?;
        let name = f.name().to_owned();
        // The zip crate reads `/x` as `x`; an export that names a root, a drive or `..` is
        // not one a SIS wrote, and is refused whole.
        let rooted = name.starts_with(['/', '\\'])
            || name.as_bytes().get(1) == Some(&b':')
            || name.split(['/', '\\']).any(|part| part == "..");
        let Some(enclosed) = f.enclosed_name().filter(|_| !rooted) else {
            return Err(InspectError::LeavesExport { entry: name });
        };
        if f.is_symlink() {
            return Err(InspectError::LeavesExport { entry: name });
        }
        if f.is_dir() || !is_csv(&name) || is_mac_fork(&name) {
            continue;
        }
        if f.encrypted() {
            return Err(InspectError::Encrypted { file: name });
        }
        let rel = enclosed.to_string_lossy().replace('\\', "/");
        limits.check_size(&rel, f.size())?;
        let ratio = f.size() / f.compressed_size().max(1);
        if f.size() > Limits::RATIO_FLOOR && ratio > limits.max_ratio {
            return Err(InspectError::Bomb {
                file: rel,
                declared: f.size(),
                compressed: f.compressed_size(),
            });
        }
        raw.push((rel, f.size(), i));
    }
    // Many zips hold one folder with the files in it: read them as if at the top.
    let top = raw
        .first()
        .and_then(|(n, _, _)| n.split_once('/').map(|(d, _)| d.to_owned()));
    let strip = top.filter(|d| {
        raw.iter().all(|(n, _, _)| {
            n.strip_prefix(d.as_str())
                .is_some_and(|r| r.starts_with('/') && !r[1..].contains('/'))
        })
    });
    let mut out: Vec<Entry> = raw
        .into_iter()
        .map(|(name, bytes, i)| Entry {
            name: match &strip {
                Some(d) => name[d.len() + 1..].to_owned(),
                None => name,
            },
            bytes,
            at: Place::Zip(i),
        })
        .collect();
    limits.check_total(&out)?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::is_csv;

    /// Found by the sis_export fuzz target: a name whose last four bytes cut a character.
    #[test]
    fn any_name_is_told_csv_or_not_without_cutting_a_character() {
        assert!(is_csv("users.csv"));
        assert!(is_csv("Académie/Users.CSV"));
        assert!(!is_csv(".csv"));
        assert!(!is_csv("notes▌"));
        assert!(!is_csv("acad▌"));
        // The last four bytes start inside the character.
        assert!(!is_csv("ab▌cd"));
        assert!(!is_csv("x▌.cs"));
        assert!(!is_csv("é"));
        assert!(is_csv("▌▌.csv"));
    }
}
