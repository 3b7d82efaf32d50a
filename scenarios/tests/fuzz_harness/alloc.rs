//! A capping global allocator: a fuzz input that asks for one allocation
//! over [`SINGLE_MAX_BYTES`], or pushes live memory over
//! [`LIVE_MAX_BYTES`], is a finding (a parser sized a buffer from the
//! input), reported with the input that did it instead of taking the
//! machine's memory.
//!
//! The breaching thread is parked inside the allocator; the watchdog
//! thread (see `driver`) notices, writes the input out and ends the
//! process with [`EXIT_ALLOC`]. Without a running watchdog the allocator
//! prints what it can without allocating and aborts.

// A global allocator is an `unsafe impl` by definition; the workspace denies
// unsafe code, and this is the one place that needs it: it only forwards to
// `System` and counts bytes.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

/// The largest single allocation a fuzz input may make.
pub const SINGLE_MAX_BYTES: usize = 1 << 30;
/// The most live heap memory while fuzzing.
pub const LIVE_MAX_BYTES: usize = 3 << 30;
/// Exit status of a process stopped by the allocation cap.
pub const EXIT_ALLOC: i32 = 71;

static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Size of the allocation that breached the cap (0: none yet).
static BREACH_BYTES: AtomicUsize = AtomicUsize::new(0);
/// 1: a single allocation too large; 2: live memory too large.
static BREACH_KIND: AtomicU8 = AtomicU8::new(0);
/// Set while a watchdog is running that will report a breach.
pub(crate) static WATCHED: AtomicBool = AtomicBool::new(false);

/// The capping allocator; install it with
/// `#[global_allocator] static A: CapAlloc = CapAlloc;`.
pub struct CapAlloc;

/// A breach so far: (kind, bytes), kind 1 = single allocation, 2 = live total.
pub fn breach() -> Option<(u8, usize)> {
    let b = BREACH_BYTES.load(Ordering::SeqCst);
    (b != 0).then(|| (BREACH_KIND.load(Ordering::SeqCst), b))
}

/// Live heap bytes.
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn check(size: usize) {
    let kind = if size > SINGLE_MAX_BYTES {
        1
    } else if LIVE.load(Ordering::Relaxed).saturating_add(size) > LIVE_MAX_BYTES {
        2
    } else {
        return;
    };
    // Only the first breach stops its thread: the watchdog must still be
    // able to allocate to report it.
    if BREACH_BYTES
        .compare_exchange(0, size, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return;
    }
    BREACH_KIND.store(kind, Ordering::SeqCst);
    if WATCHED.load(Ordering::SeqCst) {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
    // No watchdog: say so without allocating, then stop.
    let mut buf = [0u8; 20];
    let mut err = std::io::stderr();
    let _ = err.write_all(b"fuzz: allocation cap exceeded: ");
    let _ = err.write_all(decimal(size, &mut buf));
    let _ = err.write_all(b" bytes requested\n");
    std::process::abort();
}

fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

unsafe impl GlobalAlloc for CapAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > SINGLE_MAX_BYTES {
            check(new_size);
        } else {
            check(new_size.saturating_sub(layout.size()));
        }
        // SAFETY: `ptr` came from `System` with this layout.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}
