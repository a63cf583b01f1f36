#![forbid(unsafe_code)]

// The cache holds millions of small allocations and every request allocates and frees a
// few dozen: mimalloc keeps both cheaper than glibc malloc (tests/bench/host_load.sh).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // No transparent huge pages: mimalloc's arenas would be backed 2 MiB at a time, and the
    // cache's memory (RSS) grows by a fifth and more for nothing (measured with
    // tests/bench/host_load.sh: 100,000 users ~95 → ~72 MiB after the first import). The
    // setting holds for the whole process and the workers it starts.
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    ecma_host::cli::main()
}
