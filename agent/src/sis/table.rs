//! The roles of users, by id, in a table of fixed size.
//!
//! Counting a column's values per role needs each row's role, and in OneRoster 1.2 (and for
//! `demographics.csv` in any version) the role is in another file. The table keeps a tag of a
//! 64-bit hash of each user id and a bit per role, in one word per slot, in a fixed number of
//! slots allocated and touched once, so the inspector's memory does not grow with the export:
//! an export with more users than a table holds is read in partitions, each pass taking the
//! ids whose hash falls in it.

use std::hash::{BuildHasher, Hasher};

use foldhash::quality::FixedState;

use fitcheck_core::data::oneroster::Role;

/// Slots in the table by default: 2^21 words, 16 MiB; three quarters of them (1,572,864
/// users) are read in one pass.
pub const SLOTS: usize = 1 << 21;

/// An id's 64-bit hash: its low bits pick the slot, bits 32 up the partition, and its top 48
/// bits (never all zero) are kept in the slot as its tag.
pub fn key(id: &[u8]) -> u64 {
    // A fixed seed: the same id hashes the same in every pass and file. foldhash rather than
    // std's SipHash: a few times faster on short ids, and a keyed hash's resistance to chosen
    // collisions buys nothing here (a collision costs a longer probe, or a miscounted row).
    let mut h = FixedState::with_seed(0x6669_7463_6865_636b).build_hasher();
    h.write(id);
    h.finish() | (1 << 63)
}

/// What a slot keeps of a key. Two ids are confused only when both have the same 48-bit tag
/// within one run of probed slots: about one chance in 10^8 for a full pass.
fn tag(key: u64) -> u64 {
    key & !0xFFFF
}

/// The bit of a role: its position in `Role::ALL`, which lists the roles in their declared
/// order (a test holds the two together).
pub fn bit(role: Role) -> u16 {
    1 << (role as u16)
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
    /// Tag and roles in one word, so a look-up touches one cache line; 0 is empty.
    slots: Vec<u64>,
    len: usize,
    /// Which partition of how many (a power of two) this pass holds.
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
    /// A table of `slots` (rounded up to a power of two, at least 16) for partition `part` of
    /// `parts` (a power of two).
    pub fn new(slots: usize, part: u64, parts: u64) -> RoleTable {
        let slots = slots.max(16).next_power_of_two();
        RoleTable {
            per_pass: slots / 4 * 3,
            // vec![0; n] would map zeroed pages lazily; filling them makes the memory the
            // table takes the same whatever the export's size.
            slots: std::iter::repeat_n(0u64, slots).collect(),
            len: 0,
            part: (part, parts.max(1)),
        }
    }

    /// Empties the table for another partition, keeping its memory.
    pub fn reset(&mut self, part: u64, parts: u64) {
        self.slots.fill(0);
        self.len = 0;
        self.part = (part, parts.max(1));
    }

    /// Whether this pass holds `key`.
    pub fn holds(&self, key: u64) -> bool {
        (key >> 32) & (self.part.1 - 1) == self.part.0
    }

    fn slot(&self, key: u64) -> usize {
        let mask = self.slots.len() - 1;
        let want = tag(key);
        let mut i = (key as usize) & mask;
        loop {
            let s = self.slots[i];
            if s == 0 || tag(s) == want {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `role` to `key`'s roles; whether the user had no role of that kind before.
    pub fn add(&mut self, key: u64, role: u16) -> Result<bool, Full> {
        let i = self.slot(key);
        if self.slots[i] == 0 {
            if self.len >= self.per_pass {
                return Err(Full);
            }
            self.slots[i] = tag(key);
            self.len += 1;
        }
        let role = u64::from(role);
        let new = self.slots[i] & role == 0;
        self.slots[i] |= role;
        Ok(new)
    }

    /// Reads the home slot of each key, so that the look-ups that follow find them in the
    /// cache: the loads are independent, and the processor makes them at once. The value means
    /// nothing; it is returned so the loads are not optimised away.
    pub fn warm(&self, keys: &[u64]) -> u64 {
        let mask = self.slots.len() - 1;
        keys.iter()
            .fold(0, |acc, &k| acc ^ self.slots[(k as usize) & mask])
    }

    /// `key`'s roles (0: none known).
    pub fn get(&self, key: u64) -> u16 {
        (self.slots[self.slot(key)] & 0xFFFF) as u16
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

    #[test]
    fn a_roles_bit_is_its_place_in_the_list_of_roles() {
        for (i, r) in Role::ALL.into_iter().enumerate() {
            assert_eq!(bit(r), 1 << i, "{r:?}");
            assert_eq!(roles(bit(r)).collect::<Vec<_>>(), vec![r]);
        }
    }

    #[test]
    fn a_full_table_says_so_and_a_reset_empties_it() {
        let mut t = RoleTable::new(16, 0, 1);
        for i in 0..12 {
            assert_eq!(t.add(key(format!("u{i}").as_bytes()), 1), Ok(true), "{i}");
        }
        assert_eq!(t.add(key(b"one more"), 1), Err(Full));
        // Every id is still found with its role.
        for i in 0..12 {
            assert_eq!(t.get(key(format!("u{i}").as_bytes())), 1, "{i}");
        }
        t.reset(1, 2);
        assert_eq!(t.get(key(b"u0")), 0);
    }
}
