//! [`KernelProfile`]: which kernel's rules to apply.

use crate::endian::Endian;

/// Who loads the blob, which decides the passes the kernel runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Loader {
    /// `BPF_BTF_LOAD` from user space: header, strings, every record's own
    /// rules, the resolve pass, then the type tag pass.
    #[default]
    User,
    /// The kernel's own BTF (vmlinux, or a module split on it): the same
    /// without the resolve pass, as `btf_parse_base` / `btf_parse_module`
    /// do.
    Kernel,
}

/// The kernel whose verifier rules [`Btf::check_as_kernel`](crate::Btf::check_as_kernel)
/// applies: its release (rules changed over time), byte order, pointer size
/// and loader.
///
/// ```
/// use btf_core::kernel_check::KernelProfile;
/// let p = KernelProfile::from_release("6.18.44-fc-v1300").unwrap();
/// assert_eq!(p.release(), (6, 18));
/// assert!(p.decl_tag_kflag());
/// assert!(!KernelProfile::from_release("6.1.0-27-amd64").unwrap().decl_tag_kflag());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KernelProfile {
    major: u16,
    minor: u16,
    /// The kernel's byte order: it reads the blob in it and never swaps.
    pub endian: Endian,
    /// `sizeof(void *)` in the kernel: the size of a PTR.
    pub pointer_size: u32,
    /// Who loads the blob.
    pub loader: Loader,
}

impl Default for KernelProfile {
    /// [`KernelProfile::NEWEST`].
    fn default() -> Self {
        KernelProfile::NEWEST
    }
}

impl KernelProfile {
    /// The newest rules this crate knows: the 2026 format (7.1: 32-byte
    /// header with a layout section, 24-bit vlen, 7-bit kind), native byte
    /// order, 64-bit pointers, user load.
    pub const NEWEST: KernelProfile = KernelProfile::new(7, 1);

    /// The rules of Linux `major.minor`, native byte order, 64-bit pointers,
    /// user load.
    pub const fn new(major: u16, minor: u16) -> KernelProfile {
        KernelProfile {
            major,
            minor,
            endian: Endian::NATIVE,
            pointer_size: 8,
            loader: Loader::User,
        }
    }

    /// The profile for a kernel release string as `uname -r` or
    /// `/proc/sys/kernel/osrelease` gives it (`6.18.44-fc-v1300`,
    /// `6.1.0-27-amd64`); `None` when it does not start with `N.N`.
    pub fn from_release(release: &str) -> Option<KernelProfile> {
        let mut parts = release.trim().split(['.', '-', '+', '_']);
        let major = parts.next()?.parse().ok()?;
        let minor_text = parts.next()?;
        let digits = minor_text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(minor_text.len());
        let minor = minor_text.get(..digits)?.parse().ok()?;
        Some(KernelProfile::new(major, minor))
    }

    /// The same profile with `loader`.
    pub const fn with_loader(self, loader: Loader) -> KernelProfile {
        KernelProfile { loader, ..self }
    }

    /// The same profile with byte order `endian`.
    pub const fn with_endian(self, endian: Endian) -> KernelProfile {
        KernelProfile { endian, ..self }
    }

    /// `(major, minor)`.
    pub const fn release(&self) -> (u16, u16) {
        (self.major, self.minor)
    }

    const fn at_least(&self, major: u16, minor: u16) -> bool {
        self.major > major || (self.major == major && self.minor >= minor)
    }

    /// The highest kind number accepted: FLOAT (16) since 5.13, DECL_TAG
    /// (17) since 5.16, TYPE_TAG (18) since 5.17, ENUM64 (19) since 6.0.
    pub const fn max_kind(&self) -> u8 {
        if self.at_least(6, 0) {
            19
        } else if self.at_least(5, 17) {
            18
        } else if self.at_least(5, 16) {
            17
        } else if self.at_least(5, 13) {
            16
        } else {
            15
        }
    }

    /// The 2026 format (7.1): `info` holds a 24-bit vlen and a 7-bit kind
    /// (every bit defined), and the header may be 32 bytes with a kind
    /// layout section.
    pub const fn format_2026(&self) -> bool {
        self.at_least(7, 1)
    }

    /// The bits of `info` the kernel defines.
    pub const fn info_mask(&self) -> u32 {
        if self.format_2026() {
            u32::MAX
        } else {
            0x9f00_ffff
        }
    }

    /// The header length the kernel knows: 32 with the 2026 format, else 24.
    pub const fn header_len(&self) -> u32 {
        if self.format_2026() { 32 } else { 24 }
    }

    /// `KSYM_NAME_LEN`: names may be this long (512 since 6.1, 128 before).
    pub const fn ksym_name_len(&self) -> usize {
        if self.at_least(6, 1) { 512 } else { 128 }
    }

    /// ENUM may set the kind flag (signed values) since 6.0.
    pub const fn enum_kflag(&self) -> bool {
        self.at_least(6, 0)
    }

    /// DECL_TAG and TYPE_TAG may set the kind flag (attributes) since 6.14.
    pub const fn decl_tag_kflag(&self) -> bool {
        self.at_least(6, 14)
    }

    /// Identifiers may hold '.' in every kind (seen on 6.1.170; the stored
    /// 6.0-era source allows it only in VAR and DATASEC names).
    pub const fn relaxed_names(&self) -> bool {
        self.at_least(6, 1)
    }

    /// A DATASEC name may be any printable text: in 6.12's source and on
    /// 6.18; not on 6.1.170, which wants an identifier (dots allowed).
    /// Releases 6.2 to 6.11 are assumed without it.
    pub const fn printable_section_names(&self) -> bool {
        self.at_least(6, 12)
    }

    /// A FUNC_PROTO's return and parameter types may not be a VAR,
    /// DATASEC or DECL_TAG: in 6.12's source and on 6.1.170 and 6.18 (a
    /// fix that reached the 6.1 stable series), not in the stored 6.0-era
    /// source. An early 6.1 release may lack it.
    pub const fn func_proto_no_source_only(&self) -> bool {
        self.at_least(6, 1)
    }
}
