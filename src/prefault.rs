//! Making output memory resident in one system call instead of one page
//! fault per 4 KiB page.
//!
//! A max event's response is ~32 MB of fresh memory: ~7,900 page faults
//! when written page by page. `MADV_POPULATE_WRITE` (Linux 5.14) maps the
//! same pages in one call per record: 10,718 -> 2,862 faults and 2-3% less
//! wall and CPU time for the whole CLI on the max event (medians of 40
//! interleaved runs). Where the call is unknown (older kernels) it fails and
//! the pages fault in as before; contents are never touched.

/// Makes the first `n` bytes of `buf`'s spare capacity resident.
pub(crate) fn populate_spare(buf: &mut Vec<u8>, n: usize) {
    /// Below this a system call saves nothing worth having.
    const MIN: usize = 256 << 10;
    #[cfg(target_os = "linux")]
    {
        let spare = buf.spare_capacity_mut();
        let n = n.min(spare.len());
        if n < MIN {
            return;
        }
        // SAFETY: sysconf has no preconditions.
        let page = match usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }) {
            Ok(p) if p.is_power_of_two() => p,
            _ => return,
        };
        let start = spare.as_mut_ptr() as usize;
        let begin = start.saturating_add(page - 1) & !(page - 1);
        let end = start.saturating_add(n) & !(page - 1);
        if end > begin {
            // SAFETY: [begin, end) lies inside `buf`'s own allocation (its
            // spare capacity, which nothing else references); populating
            // only maps pages, zero-filled if new, and writes no byte. A
            // failure (EINVAL on old kernels) leaves everything as it was.
            unsafe {
                libc::madvise(
                    begin as *mut libc::c_void,
                    end - begin,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (buf, n, MIN);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_and_length_are_untouched() {
        let mut v: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        v.reserve(4 << 20);
        let (len, cap) = (v.len(), v.capacity());
        populate_spare(&mut v, 4 << 20);
        populate_spare(&mut v, usize::MAX);
        assert_eq!((v.len(), v.capacity()), (len, cap));
        assert!(v.iter().enumerate().all(|(i, &b)| b == i as u8));
        v.resize(len + (4 << 20), 7);
        assert!(v[len..].iter().all(|&b| b == 7));
    }
}
