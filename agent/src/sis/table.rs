//! The roles of users, by id, in a table of fixed size.
//!
//! Counting a column's values per role needs each row's role, and in OneRoster 1.2 (and for
//! `demographics.csv` in any version) the role is in another file. The table keeps a 64-bit
//! hash of each user id and a bit per role, in a fixed number of slots allocated and touched
//! once, so the inspector's memory does not grow with the export: an export with more users
//! than a table holds is read in partitions, each pass taking the ids whose hash falls in it.

use std::hash::{BuildHasher, Hasher};

use fitcheck_core::data::oneroster::Role;

/// Slots in the table by default: 2^21, 16 MiB of keys and 4 MiB of role bits; three
/// quarters of them (1,572,864 users) are read in one pass.
pub const SLOTS: usize = 1 << 21;

/// An id's hash, never 0 (0 marks an empty slot).
pub fn key(id: &[u8]) -> u64 {
    // A fixed key: the same id hashes the same in every pass and file.
    let mut h =
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .build_hasher();
    h.write(id);
    h.finish().max(1)
}

/// The bit of a role.
pub fn bit(role: Role) -> u16 {
    let i = Role::ALL.iter().position(|r| *r == role).unwrap_or(0);
    1 << i
}

/// The roles of a mask.
pub fn roles(mask: u16) -> impl Iterator<Item = Role> {
    Role::ALL
        .into_iter()
        .enumerate()
        .filter(move |(i, _)| mask & (1 << i) != 0)
        .map(|(_, r)| r)
}

/// The table.
pub struct RoleTable {
    /// Most ids one pass takes before the table is full (three quarters of the slots, so a
    /// probe stays short).
    per_pass: usize,
    keys: Vec<u64>,
    masks: Vec<u16>,
    len: usize,
    /// Which partition of how many this pass holds.
    part: (u64, u64),
}

impl std::fmt::Debug for RoleTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleTable")
            .field("len", &self.len)
            .field("part", &self.part)
            .finish()
    }
}

/// The table is full: read again in more partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

impl RoleTable {
    /// A table of `slots` (a power of two, at least 16) for partition `part` of `parts`.
    pub fn new(slots: usize, part: u64, parts: u64) -> RoleTable {
        let slots = slots.max(16).next_power_of_two();
        RoleTable {
            per_pass: slots / 4 * 3,
            // vec![0; n] would map zeroed pages lazily; filling them makes the memory the
            // table takes the same whatever the export's size.
            keys: std::iter::repeat_n(0u64, slots).collect(),
            masks: std::iter::repeat_n(0u16, slots).collect(),
            len: 0,
            part: (part, parts.max(1)),
        }
    }

    /// Empties the table for another partition, keeping its memory.
    pub fn reset(&mut self, part: u64, parts: u64) {
        self.keys.fill(0);
        self.masks.fill(0);
        self.len = 0;
        self.part = (part, parts.max(1));
    }

    /// Whether this pass holds `key`.
    pub fn holds(&self, key: u64) -> bool {
        (key >> 32) % self.part.1 == self.part.0
    }

    fn slot(&self, key: u64) -> usize {
        let mask = self.keys.len() - 1;
        let mut i = (key as usize) & mask;
        loop {
            let k = self.keys[i];
            if k == key || k == 0 {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `role` to `key`'s roles; whether the user had no role of that kind before.
    pub fn add(&mut self, key: u64, role: u16) -> Result<bool, Full> {
        let i = self.slot(key);
        if self.keys[i] == 0 {
            if self.len >= self.per_pass {
                return Err(Full);
            }
            self.keys[i] = key;
            self.len += 1;
        }
        let new = self.masks[i] & role == 0;
        self.masks[i] |= role;
        Ok(new)
    }

    /// `key`'s roles (0: none known).
    pub fn get(&self, key: u64) -> u16 {
        let i = self.slot(key);
        if self.keys[i] == key {
            self.masks[i]
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_kept_per_id_and_partitions_split_ids() {
        let mut t = RoleTable::new(64, 0, 1);
        let a = key(b"usr-1");
        assert_eq!(t.add(a, bit(Role::Student)), Ok(true));
        assert_eq!(t.add(a, bit(Role::Student)), Ok(false));
        assert_eq!(t.add(a, bit(Role::Teacher)), Ok(true));
        assert_eq!(
            roles(t.get(a)).collect::<Vec<_>>(),
            vec![Role::Student, Role::Teacher]
        );
        assert_eq!(t.get(key(b"usr-2")), 0);
        let ids: Vec<u64> = (0..1000).map(|i| key(format!("u{i}").as_bytes())).collect();
        let halves: Vec<usize> = (0..2)
            .map(|p| {
                let t = RoleTable::new(64, p, 2);
                ids.iter().filter(|k| t.holds(**k)).count()
            })
            .collect();
        assert_eq!(halves[0] + halves[1], 1000);
        assert!(halves[0] > 400 && halves[1] > 400, "{halves:?}");
    }
}
