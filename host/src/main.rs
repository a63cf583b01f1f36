#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    ecma_host::cli::main()
}
