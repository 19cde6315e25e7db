//! Node identity: a ULID-like sortable name created at start, the advertised address, and a bump counter.
//!
//! Upstream names each node with a random ULID at every start; ULIDs sort by creation time, so the instance
//! started first usually takes position 0. foca needs an [`foca::Identity`]: the address is what conflicts are
//! resolved on, the bump lets a node declared down rejoin under the same name.

use std::net::SocketAddr;

use rand::RngExt;
use serde::{Deserialize, Serialize};

/// Crockford's base32 alphabet, as used by ULID.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Returns a new ULID (26 characters: 48-bit millisecond timestamp then 80 random bits) for a node started at
/// `unix_millis`. The caller passes wall time from its clock, so names started earlier sort first.
pub fn node_name(unix_millis: u64) -> String {
    let random: u128 = rand::rng().random::<u128>() & ((1u128 << 80) - 1);
    let value = (u128::from(unix_millis & ((1u64 << 48) - 1)) << 80) | random;
    let mut out = [0u8; 26];
    for (i, slot) in out.iter_mut().enumerate() {
        let shift = 5 * (25 - i);
        let index = ((value >> shift) & 0x1f) as usize;
        *slot = ALPHABET[index];
    }
    out.iter().map(|b| char::from(*b)).collect()
}

/// A member as foca sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct NodeId {
    /// The node name (ULID); empty for a placeholder built from a `--cluster.peer` address.
    pub(crate) name: String,
    /// The advertised address (UDP and TCP).
    pub(crate) addr: SocketAddr,
    /// Incremented each time the node rejoins after being declared down.
    pub(crate) bump: u16,
}

impl NodeId {
    /// A placeholder for a peer known only by address: foca accepts an announce addressed to any identity
    /// with the receiver's address.
    pub(crate) fn placeholder(addr: SocketAddr) -> Self {
        Self { name: String::new(), addr, bump: 0 }
    }
}

impl foca::Identity for NodeId {
    type Addr = SocketAddr;

    fn renew(&self) -> Option<Self> {
        Some(Self { name: self.name.clone(), addr: self.addr, bump: self.bump.wrapping_add(1) })
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        // A restarted node has a later name; a rejoined one a higher bump.
        (&self.name, self.bump) > (&adversary.name, adversary.bump)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_start_time() {
        let a = node_name(1_700_000_000_000);
        let b = node_name(1_700_000_000_001);
        assert_eq!(a.len(), 26);
        assert!(a < b, "{a} < {b}");
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
    }

    #[test]
    fn later_identity_wins_conflicts() {
        use foca::Identity;
        let addr: SocketAddr = "10.0.0.1:9094".parse().unwrap();
        let old = NodeId { name: "A".into(), addr, bump: 0 };
        let renewed = old.renew().unwrap();
        assert!(renewed.win_addr_conflict(&old));
        assert!(!old.win_addr_conflict(&renewed));
        assert!(old.win_addr_conflict(&NodeId::placeholder(addr)));
    }
}
