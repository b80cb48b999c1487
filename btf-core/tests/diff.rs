//! `btf_core::diff`: every kind of change on hand-made pairs, word for
//! word (text and JSON); and Debian 12's 6.1 kernel against the running
//! kernel, checked against answers computed here from the two blobs.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use btf_core::diff::{self, Change, DiffOptions};
use btf_core::write::{Builder, EncodeOptions, EnumeratorDef, MemberDef, ParamDef};
use btf_core::{Btf, Kind, TypeKind, wire};

/// The same little program of types, in an old and a new shape.
fn pair() -> (Vec<u8>, Vec<u8>) {
    let build = |new: bool| {
        let mut b = Builder::new();
        let int = b.add_int("int", 4, wire::INT_SIGNED);
        let long = b.add_int("long", 8, wire::INT_SIGNED);
        let uint = b.add_int("unsigned int", 4, 0);
        // struct s: a moves, b is retyped and resized, c is removed, d is
        // added, flags' bitfield widens; an anonymous union's member is
        // flattened into s.
        let anon_members = [MemberDef::new("u1", int, 0)];
        let anon = b.add_union("", 4, &anon_members);
        let members: Vec<MemberDef<'_>> = if new {
            vec![
                MemberDef::new("b", long, 0),
                MemberDef::new("a", int, 64),
                MemberDef::bitfield("flags", uint, 96, 5),
                MemberDef::new("", anon, 128),
                MemberDef::new("d", int, 160),
            ]
        } else {
            vec![
                MemberDef::new("a", int, 0),
                MemberDef::new("b", int, 32),
                MemberDef::new("c", int, 64),
                MemberDef::bitfield("flags", uint, 96, 3),
                MemberDef::new("", anon, 128),
            ]
        };
        b.add_struct("s", if new { 24 } else { 20 }, &members);
        let values: Vec<EnumeratorDef<'_>> = if new {
            vec![EnumeratorDef::new("A", 1), EnumeratorDef::new("C", 3)]
        } else {
            vec![EnumeratorDef::new("A", 0), EnumeratorDef::new("B", 2)]
        };
        b.add_enum("e", 4, false, &values);
        let ret = if new { long } else { int };
        let params: Vec<ParamDef<'_>> = if new {
            vec![ParamDef::new("x", long), ParamDef::new("y", int)]
        } else {
            vec![ParamDef::new("x", int)]
        };
        let proto = b.add_func_proto(ret, &params);
        b.add_func("f", proto, btf_core::Linkage::GLOBAL);
        b.add_typedef("t", if new { long } else { int });
        if new {
            b.add_struct("fresh", 0, &[]);
        } else {
            b.add_struct("gone", 0, &[]);
        }
        b.encode(&EncodeOptions::default()).expect("encode")
    };
    (build(false), build(true))
}

#[test]
fn every_kind_of_change_word_for_word() {
    let (old, new) = pair();
    let (old, new) = (Btf::parse(&old).unwrap(), Btf::parse(&new).unwrap());
    let report = diff::diff(&old, &new, &DiffOptions::default());
    assert_eq!(
        report.to_string(),
        "enum e: value `A` 0 → 1\n\
         \x20 value `B` removed (was 2)\n\
         \x20 value `C` added (= 3)\n\
         func f: returns int → long\n\
         \x20 param 1 `x` int → `x` long\n\
         \x20 param 2 added: `y` int\n\
         struct s: size 20 → 24\n\
         \x20 member `a` offset 0 → 8\n\
         \x20 member `b` offset 4 → 0\n\
         \x20 member `b` size 4 → 8\n\
         \x20 member `b` type int → long\n\
         \x20 member `c` removed (was at offset 8, int)\n\
         \x20 member `flags` bitfield width 3 → 5 bits\n\
         \x20 member `d` added at offset 20 (int)\n\
         typedef t: int → long\n\
         + struct fresh\n\
         - struct gone\n\
         summary: 1 added, 1 removed, 4 changed (of 8 named types before, 8 after)\n"
    );
    let mut json = String::new();
    diff::write_json(&report, &mut json).unwrap();
    assert!(json.starts_with(
        "{\"added\":[{\"kind\":\"struct\",\"name\":\"fresh\"}],\"removed\":[{\"kind\":\"struct\",\"name\":\"gone\"}],\"changed\":[{\"kind\":\"enum\",\"name\":\"e\",\"changes\":[{\"change\":\"value_changed\",\"name\":\"A\",\"old\":0,\"new\":1}"
    ), "{json}");
    assert!(
        json.ends_with(
            "\"summary\":{\"added\":1,\"removed\":1,\"changed\":4,\"old_types\":8,\"new_types\":8}}"
        ),
        "{json}"
    );
    assert_eq!(json.matches('{').count(), json.matches('}').count());

    // Layout only: the struct's layout, nothing else.
    let layout = diff::diff(&old, &new, &DiffOptions::default().layout_only(true));
    assert_eq!(layout.changed.len(), 1);
    assert!(
        layout.changed[0]
            .changes
            .iter()
            .all(|c| !matches!(c, Change::MemberRetyped { .. }))
    );
    assert_eq!(layout.added.len(), 1);
    // One type and what it reaches.
    let only = diff::diff(&old, &new, &DiffOptions::default().types(["typedef t"]));
    let names: Vec<_> = only.changed.iter().map(|c| c.ty.name.as_str()).collect();
    assert_eq!(names, ["t"]);
    // Nothing changes against itself.
    let same = diff::diff(&old, &old, &DiffOptions::default());
    assert!(same.changed.is_empty() && same.added.is_empty() && same.removed.is_empty());
}

/// The named structs and unions of `btf` (lowest id of each name): size
/// and member names (anonymous members' members flattened).
fn aggregates(btf: &Btf<'_>) -> BTreeMap<(bool, String), (u32, BTreeSet<String>)> {
    fn members(
        btf: &Btf<'_>,
        id: btf_core::TypeId,
        prefix: &str,
        out: &mut BTreeSet<String>,
        depth: usize,
    ) {
        let Ok(ty) = btf.type_by_id(id) else { return };
        for m in ty.members().into_iter().flatten() {
            let name = m.name().unwrap();
            let path = match (prefix.is_empty(), name.is_empty()) {
                (_, true) => prefix.to_owned(),
                (true, false) => name.to_owned(),
                (false, false) => format!("{prefix}.{name}"),
            };
            let inner = btf.skip_mods(m.ty()).unwrap();
            let anon = matches!(inner.as_kind(), TypeKind::Struct(_) | TypeKind::Union(_))
                && inner.name_bytes().is_empty();
            if anon && depth < 16 {
                members(btf, inner.id(), &path, out, depth + 1);
            } else {
                out.insert(path);
            }
        }
    }
    let mut map = BTreeMap::new();
    for ty in btf.types() {
        let union = match ty.kind() {
            Kind::STRUCT => false,
            Kind::UNION => true,
            _ => continue,
        };
        let name = ty.name().unwrap();
        if name.is_empty() || map.contains_key(&(union, name.to_owned())) {
            continue;
        }
        let mut set = BTreeSet::new();
        members(btf, ty.id(), "", &mut set, 0);
        map.insert((union, name.to_owned()), (ty.size().unwrap(), set));
    }
    map
}

#[test]
fn debian_6_1_against_the_running_kernel() {
    let Some(dir) = common::corpus() else { return };
    let path = std::path::Path::new("/sys/kernel/btf/vmlinux");
    if !common::require(path.is_file(), "/sys/kernel/btf/vmlinux") {
        return;
    }
    let old_bytes = std::fs::read(dir.join("vmlinux.btf")).unwrap();
    let new_bytes = std::fs::read(path).unwrap();
    let (old, new) = (
        Btf::parse(&old_bytes).unwrap(),
        Btf::parse(&new_bytes).unwrap(),
    );
    let report = diff::diff(&old, &new, &DiffOptions::default());
    let (a, b) = (aggregates(&old), aggregates(&new));
    let mut checked = 0;
    for ((union, name), (size, members)) in &a {
        let kind = if *union { "union" } else { "struct" };
        let change = report
            .changed
            .iter()
            .find(|c| c.ty.kind == kind && c.ty.name == *name);
        let Some((new_size, new_members)) = b.get(&(*union, name.clone())) else {
            assert!(
                report
                    .removed
                    .iter()
                    .any(|t| t.kind == kind && t.name == *name),
                "{kind} {name} not removed"
            );
            continue;
        };
        checked += 1;
        let reported_size = change.and_then(|c| {
            c.changes.iter().find_map(|x| match x {
                Change::Size { old, new } => Some((*old, *new)),
                _ => None,
            })
        });
        assert_eq!(
            reported_size.is_some(),
            size != new_size,
            "{kind} {name}: size"
        );
        if let Some((o, n)) = reported_size {
            assert_eq!((o, n), (*size, *new_size), "{kind} {name}");
        }
        let removed: BTreeSet<String> = members.difference(new_members).cloned().collect();
        let added: BTreeSet<String> = new_members.difference(members).cloned().collect();
        let got_removed: BTreeSet<String> = change
            .into_iter()
            .flat_map(|c| &c.changes)
            .filter_map(|x| match x {
                Change::MemberRemoved { path, .. } => Some(path.clone()),
                _ => None,
            })
            .collect();
        let got_added: BTreeSet<String> = change
            .into_iter()
            .flat_map(|c| &c.changes)
            .filter_map(|x| match x {
                Change::MemberAdded { path, .. } => Some(path.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(got_removed, removed, "{kind} {name}: removed members");
        assert_eq!(got_added, added, "{kind} {name}: added members");
    }
    assert!(checked > 5_000, "{checked} aggregates in both");
    for (union, name) in b.keys() {
        if !a.contains_key(&(*union, name.clone())) {
            let kind = if *union { "union" } else { "struct" };
            assert!(
                report
                    .added
                    .iter()
                    .any(|t| t.kind == kind && t.name == *name),
                "{kind} {name} not added"
            );
        }
    }
    // task_struct changed between 6.1 and 6.18, sk_buff too.
    for name in ["task_struct", "sk_buff"] {
        assert!(
            report
                .changed
                .iter()
                .any(|c| c.ty.kind == "struct" && c.ty.name == name),
            "{name}"
        );
    }
}
