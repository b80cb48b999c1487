//! Naming: a name used by two types of one C namespace gets `___2`,
//! `___3`, … on its later uses, as libbpf's dumper renames them.

use super::{CDumper, NAME_RESOLVED, Step};
use crate::id::Kind;
use hashbrown::HashMap;

/// A name as written: the original bytes, or them with `___N`.
#[derive(Clone, Copy)]
pub(super) enum Name<'a> {
    Plain(&'a [u8]),
    Dup(&'a [u8], usize),
}

impl Name<'_> {
    pub(super) const EMPTY: Name<'static> = Name::Plain(b"");

    pub(super) fn is_empty(&self) -> bool {
        matches!(self, Name::Plain(n) if n.is_empty())
    }
}

impl<'a> CDumper<'a> {
    /// The name a struct, union or enum is written with.
    pub(super) fn type_name(&mut self, id: u32) -> Step<Name<'a>> {
        self.resolve_name(id, false)
    }

    /// The name a typedef is written with.
    pub(super) fn ident_name(&mut self, id: u32) -> Step<Name<'a>> {
        self.resolve_name(id, true)
    }

    fn resolve_name(&mut self, id: u32, ident: bool) -> Step<Name<'a>> {
        let t = self.ty(id)?;
        if t.name_offset().get() == 0 {
            return Ok(Name::EMPTY);
        }
        let orig = t.name_bytes();
        if self.flags(id) & NAME_RESOLVED != 0 {
            return Ok(match self.renamed.get(&id) {
                Some(&n) => Name::Dup(orig, n),
                None => Name::Plain(orig),
            });
        }
        self.set(id, NAME_RESOLVED);
        // Forward declarations and empty enums may repeat a name freely.
        if t.kind() == Kind::FWD || (t.kind() == Kind::ENUM && t.vlen() == 0) {
            return Ok(Name::Plain(orig));
        }
        let map = if ident {
            &mut self.ident_names
        } else {
            &mut self.type_names
        };
        let count = name_dups(map, orig);
        if count > 1 {
            self.renamed.insert(id, count);
            return Ok(Name::Dup(orig, count));
        }
        Ok(Name::Plain(orig))
    }
}

/// Counts one more use of `name` in `map`; returns the count.
pub(super) fn name_dups<'a>(map: &mut HashMap<&'a [u8], usize>, name: &'a [u8]) -> usize {
    let count = map.entry(name).or_insert(0);
    *count = count.saturating_add(1);
    *count
}
