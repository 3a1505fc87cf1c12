//! The runtime a `#![no_std]` rule module needs: a heap allocator, the
//! `cabi_realloc` export the component model lowers arguments through, and a
//! panic handler. Enabled by the `no-std` feature; a module that keeps std
//! gets all three from std and wasi-libc instead.
//!
//! Why bother: std on wasm32-wasip2 links the WASI plumbing (stdio for panic
//! messages, environment for `RUST_BACKTRACE`, exit), so the component imports
//! a dozen WASI functions and carries extra core instances to wire them up.
//! The daemon instantiates a fresh component for every decision, and that
//! wiring is paid on every call: measured on the default module, leaving std
//! out cuts the per-decision cost by about a quarter (see BENCHMARKS.md).
//!
//! The allocator is a bump allocator. A rule instance lives for one call and
//! its memory is discarded afterwards, so freeing is almost never worth the
//! bookkeeping: the most recent allocation can be freed or grown in place
//! (vectors that grow as they are filled), anything else is only reclaimed
//! when the instance ends. A rule that churns through more memory than the
//! daemon's per-call cap fails that call with a memory-limit error; such a
//! rule should keep std (and its general-purpose allocator) instead.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::Cell;

const PAGE: usize = 65_536;

// `memcmp` and friends, which core calls and std would have linked: wasi-libc
// (shipped with the target) provides them without importing anything.
#[link(name = "c")]
unsafe extern "C" {}

unsafe extern "C" {
    /// First byte after the static data and the stack, set by the linker.
    static __heap_base: u8;
}

/// Hands out memory from `__heap_base` upwards, growing linear memory in
/// whole pages when the initial memory runs out.
struct Bump {
    /// Next free byte; 0 until the first allocation.
    next: Cell<usize>,
    /// End of linear memory as last seen.
    end: Cell<usize>,
}

// SAFETY: a wasm32 rule instance is single-threaded.
unsafe impl Sync for Bump {}

impl Bump {
    /// Claim `[start, start + size)`, growing memory as needed; null if the
    /// memory cannot grow (the daemon's cap).
    fn claim(&self, start: usize, size: usize) -> *mut u8 {
        let Some(new_next) = start.checked_add(size) else {
            return core::ptr::null_mut();
        };
        if new_next > self.end.get() {
            let pages = (new_next - self.end.get()).div_ceil(PAGE);
            if wasm32::memory_grow(0, pages) == usize::MAX {
                return core::ptr::null_mut();
            }
            self.end.set(self.end.get() + pages * PAGE);
        }
        self.next.set(new_next);
        start as *mut u8
    }

    fn is_last(&self, ptr: *mut u8, size: usize) -> bool {
        ptr as usize + size == self.next.get()
    }
}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.next.get() == 0 {
            // Only the address of the linker-provided symbol is taken.
            self.next.set(core::ptr::addr_of!(__heap_base) as usize);
            self.end.set(wasm32::memory_size(0) * PAGE);
        }
        let start = self.next.get().next_multiple_of(layout.align());
        self.claim(start, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.is_last(ptr, layout.size()) {
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.is_last(ptr, layout.size()) {
            return self.claim(ptr as usize, new_size);
        }
        // SAFETY: `layout.align()` is a valid alignment (it came from a Layout)
        // and `new_size` is non-zero per `GlobalAlloc::realloc`'s contract.
        let moved =
            unsafe { self.alloc(Layout::from_size_align_unchecked(new_size, layout.align())) };
        if !moved.is_null() {
            // SAFETY: both blocks are live and at least this long; a fresh
            // claim never overlaps an earlier one.
            unsafe { core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size)) };
        }
        moved
    }
}

#[global_allocator]
static HEAP: Bump = Bump {
    next: Cell::new(0),
    end: Cell::new(0),
};

/// The canonical ABI's allocation entry point: the host calls it to place
/// strings and lists of a request in guest memory. (With std, wasi-libc
/// exports it.)
///
/// # Safety
/// Called by the component model with the contract of `cabi_realloc`:
/// `old_ptr`/`old_len`/`align` describe a block it got from here, or are
/// null/0 for a new one; `align` is a power of two.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    if new_len == 0 {
        // A zero-sized block: any aligned, non-null pointer will do.
        return align as *mut u8;
    }
    let ptr = unsafe {
        if old_len == 0 {
            HEAP.alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            HEAP.realloc(
                old_ptr,
                Layout::from_size_align_unchecked(old_len, align),
                new_len,
            )
        }
    };
    if ptr.is_null() {
        // Out of memory: trap, the daemon reports it as a failed call.
        wasm32::unreachable()
    }
    ptr
}

/// A panic traps the call; the daemon reports it as a failed decision and
/// nothing changes. (There is nowhere to print the message.)
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    wasm32::unreachable()
}
