#![forbid(unsafe_code)]

// The cache holds millions of small allocations and every request allocates and frees a
// few dozen: mimalloc keeps both cheaper than glibc malloc (tests/bench/host_load.sh).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ecma_host::cli::main()
}
