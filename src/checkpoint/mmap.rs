//! The bytes of a base image: memory-mapped from a real file, or read whole from a simulated
//! one, and a prefetch hint over them. The only module with `unsafe` outside `ffi`
//! (ARCHITECTURE: "the mmap'd base reader"): the map and the hint; the reader over these
//! bytes (`storage::base`) is safe code.

use std::io;
use std::ops::Deref;

use crate::vfs::{self, IoFile};

pub enum BaseBytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl Deref for BaseBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            BaseBytes::Mapped(m) => m,
            BaseBytes::Read(v) => v,
        }
    }
}

/// Maps `file` read-only when it is an operating-system file, else reads all of it. The
/// mapping is not pre-faulted: pages become resident as queries touch them, and the
/// operating system may drop them again under memory pressure (they are clean file pages).
pub fn map(file: &dyn IoFile) -> io::Result<BaseBytes> {
    if let Some(f) = file.as_std_file() {
        if f.metadata()?.len() > 0 {
            // SAFETY: a mapping is undefined behaviour if the file changes underneath it. Base
            // images never do: the checkpoint writes one under a temporary name, syncs it and
            // renames it into place, and nothing opens it for writing afterwards. The writer
            // deletes an old image only while holding an exclusive lock that no reader holds
            // (readers keep a shared lock on the images they use), and unlinking leaves an
            // existing mapping intact anyway. An outside process truncating the file would
            // break this (SIGBUS), as it would for any mmap-based database.
            let m = unsafe { memmap2::MmapOptions::new().map(f)? };
            return Ok(BaseBytes::Mapped(m));
        }
    }
    let len = usize::try_from(file.size()?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large"))?;
    let mut buf = vec![0u8; len];
    let n = vfs::read_full_at(file, &mut buf, 0)?;
    buf.truncate(n);
    Ok(BaseBytes::Read(buf))
}

/// Asks the processor to start loading the cache line that holds `bytes`' first byte, so
/// that a read of it soon after finds it cached (a point lookup issues it for its index slot
/// before beginning its transaction, whose bookkeeping then overlaps the memory access). A
/// hint only: nothing is read, nothing can fault, results cannot change. No-op when `bytes`
/// is empty or on other architectures.
#[inline]
pub fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if !bytes.is_empty() {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: PREFETCHT0 is a hint that never faults and reads nothing into the
        // program, whatever the address (here one inside a live slice); its only
        // requirement, SSE, is part of the x86_64 baseline every build targets.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}
