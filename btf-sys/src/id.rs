//! [`BtfId`]: the id of a BTF object in the kernel. The errors, the
//! kernel seam and the listing of ids all name objects by it, so it sits
//! below them.

use core::fmt;
use core::num::NonZeroU32;

/// The id of a BTF object in the kernel (what `bpftool btf list` prints).
///
/// Ids start at 1; vmlinux is usually 1. An id names an object only while
/// it is loaded: a module's BTF id vanishes when the module is unloaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BtfId(NonZeroU32);

impl BtfId {
    /// The id `id`, or `None` for 0, which is no object.
    pub const fn new(id: u32) -> Option<BtfId> {
        match NonZeroU32::new(id) {
            Some(id) => Some(BtfId(id)),
            None => None,
        }
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

impl fmt::Display for BtfId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
