//! One gzip member inflated in one call by libdeflate, into a buffer sized
//! up front: inflate is the largest cost of the job, and this is the fastest
//! inflate measured on CloudWatch Logs batches (`docs/performance.md`).
//!
//! A thin safe wrapper over `libdeflate-sys`: the `_ex` entry point is the
//! only one that says where a member ends, which reading every member and
//! refusing trailing garbage needs (the `libdeflater` crate does not expose it).

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE as NO_SPACE,
    libdeflate_result_LIBDEFLATE_SUCCESS as SUCCESS,
};
use std::ptr::NonNull;

/// What inflating one member gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member {
    /// The member was read whole (CRC32 and ISIZE checked): `consumed` input
    /// bytes, `written` output bytes.
    Done { consumed: usize, written: usize },
    /// The member inflates to more than the output slice holds.
    NoSpace,
    /// Not a valid gzip member (header, deflate data, CRC32 or ISIZE).
    Bad,
}

/// A libdeflate decompressor (about 32 KiB of tables), reused from record to record.
pub(crate) struct Inflater(NonNull<libdeflate_decompressor>);

// libdeflate's decompressor is plain memory with no thread affinity; `&mut`
// access keeps it to one thread at a time.
unsafe impl Send for Inflater {}

impl Inflater {
    /// `None` if libdeflate cannot allocate its tables.
    #[allow(
        clippy::disallowed_methods,
        reason = "gzip_member inflates into a slice sized by the caller's cap"
    )]
    pub(crate) fn new() -> Option<Self> {
        // SAFETY: no arguments; a null return is handled.
        NonNull::new(unsafe { libdeflate_alloc_decompressor() }).map(Self)
    }

    /// Inflates the gzip member at the start of `input` into `out`.
    pub(crate) fn gzip_member(&mut self, input: &[u8], out: &mut [u8]) -> Member {
        let mut consumed = 0usize;
        let mut written = 0usize;
        // SAFETY: both pointers come from live slices with their true lengths;
        // libdeflate reads at most `input.len()` bytes, writes at most
        // `out.len()` bytes, and keeps no pointer after returning.
        let result = unsafe {
            libdeflate_gzip_decompress_ex(
                self.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut consumed,
                &mut written,
            )
        };
        match result {
            SUCCESS if consumed <= input.len() && written <= out.len() => {
                Member::Done { consumed, written }
            }
            NO_SPACE => Member::NoSpace,
            _ => Member::Bad,
        }
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor, freed once.
        unsafe { libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inflater(libdeflate)")
    }
}
