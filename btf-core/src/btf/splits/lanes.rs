//! Walking many type sections at once, for [`Btf::parse_splits`](crate::Btf::parse_splits).
//!
//! A walk is a chain of loads: each record's size gives the next record's
//! place, so a walk over a section that is not in cache waits on memory
//! at nearly every record. Walking [`LANES`] sections in turn, one record
//! of each, gives the processor that many independent chains whose waits
//! overlap. [`Btf::parse_splits`](crate::Btf::parse_splits) parses many
//! splits this way; on the benches' corpus (4023 modules, 60 MB) it takes
//! 0.64× the time of `parse_split` called for each, with the blobs' first
//! and last bytes read ahead (in a probe, 0.69× without that, 0.61× with
//! it).
//!
//! Only sections with no layout section to consult (their own or a
//! base's) walk in lanes: every record of theirs is of a kind this crate
//! knows, or a fault that ends the walk. A lane checks what
//! [`frame`](crate::walk::frame) checks, and its section is concluded by the same
//! code, so the result is the same.

use crate::endian::{Be, Endian, Le, Order};
use crate::error::Result;
use crate::id::Kind;
use crate::walk::{self, Folded, VecSink, WalkInput, conclude, known_record, known_records};
use alloc::vec::Vec;

/// How many sections walk at once. Against `parse_split` in a loop on the
/// benches' corpus, in alternating probe runs: 8 lanes 0.66× its time, 4
/// and 6 lanes 0.74× and 0.69×, 10 to 16 lanes 0.69× to 0.82×.
const LANES: usize = 8;

/// One section's walk in progress.
#[derive(Default)]
struct Lane<'a> {
    types: &'a [u8],
    off: usize,
    folded: Folded,
    sink: VecSink,
}

impl<'a> Lane<'a> {
    /// A lane at the start of `types`, its index reserved for `types`'
    /// likely number of records.
    fn start(types: &'a [u8]) -> Self {
        let mut sink = VecSink::default();
        // A failed reservation is not fatal: pushing may still succeed.
        let _ = sink
            .offsets
            .try_reserve_exact(walk::likely_records(types.len()));
        Lane {
            types,
            off: 0,
            folded: Folded::default(),
            sink,
        }
    }

    /// Runs this lane alone to where it stops.
    fn run_alone<O: Order>(&mut self) {
        let folded = self.folded();
        (self.folded, self.off) =
            known_records::<O, false>(self.types, self.off, folded, &mut self.sink);
    }

    /// What the lane folded so far, with its count: the lockstep loop
    /// counts records only by the offsets it pushes.
    fn folded(&mut self) -> Folded {
        let mut folded = core::mem::take(&mut self.folded);
        // One offset per record, and at most `types.len() / 12` records,
        // below 2^32 / 12.
        folded.count = self.sink.offsets.len() as u32;
        folded
    }
}

/// Where [`walk_lanes`] takes its sections from and hands them back.
pub(crate) trait Jobs<'a> {
    /// What the caller keeps with each section.
    type Tag;
    /// The next type section to walk (one with no layout section to
    /// consult), with the caller's tag for it.
    fn next(&mut self) -> Option<(&'a [u8], Self::Tag)>;
    /// A section walked.
    fn done(&mut self, tag: Self::Tag, walked: Walked);
}

/// A type section walked in a lane: what it folded and where it stopped,
/// to be concluded against the section's [`WalkInput`], and its records'
/// offsets.
pub(crate) struct Walked {
    folded: Folded,
    off: usize,
    /// The offsets of the records walked.
    pub(crate) offsets: Vec<u32>,
}

impl Walked {
    /// The record count, or the first fault, as [`frame`](crate::walk::frame)
    /// reports it for `input` (the section walked, with no layouts).
    pub(crate) fn conclude(&self, endian: Endian, input: &WalkInput<'_, '_>) -> Result<u32> {
        match endian {
            Endian::Little => conclude::<Le, false>(input, &self.folded, self.off),
            Endian::Big => conclude::<Be, false>(input, &self.folded, self.off),
        }
    }
}

/// Walks every section `jobs` hands out, [`LANES`] at a time, and hands each
/// back, once, when walked.
#[inline(never)]
pub(crate) fn walk_lanes<'a, O: Order, J: Jobs<'a>>(jobs: &mut J) {
    let mut lanes: [Lane<'a>; LANES] = core::array::from_fn(|_| Lane::default());
    let mut tags: [Option<J::Tag>; LANES] = core::array::from_fn(|_| None);
    // Fill the lanes; with fewer sections than lanes, walk them one by one.
    for (lane, slot) in lanes.iter_mut().zip(tags.iter_mut()) {
        let Some((types, tag)) = jobs.next() else {
            break;
        };
        *lane = Lane::start(types);
        *slot = Some(tag);
    }
    if tags.iter().all(Option::is_some) {
        loop {
            let stopped = known_in_turn::<O>(&mut lanes);
            let (Some(lane), Some(slot)) = (lanes.get_mut(stopped), tags.get_mut(stopped)) else {
                break;
            };
            if let Some(tag) = slot.take() {
                finish(jobs, lane, tag);
            }
            let Some((types, tag)) = jobs.next() else {
                break;
            };
            *lane = Lane::start(types);
            *slot = Some(tag);
        }
    }
    // No section left to take a freed lane: the rest walk one by one.
    for (lane, slot) in lanes.iter_mut().zip(tags.iter_mut()) {
        if let Some(tag) = slot.take() {
            lane.run_alone::<O>();
            finish(jobs, lane, tag);
        }
    }
}

/// Hands the section of a lane that stopped back.
#[cold]
fn finish<'a, J: Jobs<'a>>(jobs: &mut J, lane: &mut Lane<'a>, tag: J::Tag) {
    let mut lane = core::mem::take(lane);
    let walked = Walked {
        folded: lane.folded(),
        off: lane.off,
        offsets: lane.sink.offsets,
    };
    jobs.done(tag, walked);
}

/// Walks records of known kinds, one of each lane in turn, until a lane
/// stops (at its end, or at a record it cannot size or that does not fit):
/// returns that lane's number.
#[inline(always)]
fn known_in_turn<O: Order>(lanes: &mut [Lane<'_>; LANES]) -> usize {
    // Written out lane by lane, so that each lane's fields have fixed
    // places rather than an index to compute.
    macro_rules! in_turn {
        ($($lane:ident: $i:literal),*) => {{
            let [$($lane),*] = lanes;
            loop {
                $(
                    if !step::<O>($lane) {
                        break $i;
                    }
                )*
            }
        }};
    }
    in_turn!(l0: 0, l1: 1, l2: 2, l3: 3, l4: 4, l5: 5, l6: 6, l7: 7)
}

/// Walks the lane's next record if it is of a known kind and fits.
#[inline(always)]
fn step<O: Order>(lane: &mut Lane<'_>) -> bool {
    let Some((common, kind, size)) = known_record::<O>(lane.types, lane.off) else {
        return false;
    };
    let off = lane.off;
    let f = &mut lane.folded;
    // The offset is below the section's length, which came from a u32
    // field.
    lane.sink.push(off as u32);
    walk::fold_own::<O>(common, kind, &mut f.max_name, &mut f.max_ref);
    if kind == u32::from(Kind::ARRAY.get()) {
        // The record fits, and ARRAY's is 24 bytes: no overflow.
        let at = off + crate::record::COMMON;
        f.max_ref = f
            .max_ref
            .max(walk::word::<O>(lane.types, at))
            .max(walk::word::<O>(lane.types, at + 4));
    }
    lane.off = off + size;
    true
}
