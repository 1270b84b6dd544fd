fn main() -> std::process::ExitCode {
    ca_admin::run()
}
