fn main() -> std::process::ExitCode {
    tickettime::cli::main()
}
