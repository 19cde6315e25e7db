//! The `tocsin` binary: parse Alertmanager's command line, then run the app (or a one-shot command).

use std::process::ExitCode;
use tocsin::flags::{parse_args, render_error, Command};
use tocsin::{app::App, check_config, logging, signals, version::BUILD};

fn main() -> ExitCode {
    // reqwest is built without a default crypto provider; every TLS client in the process uses ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match parse_args(std::env::args().skip(1)) {
        Err(e) => {
            eprintln!("{}", render_error(&e));
            ExitCode::FAILURE
        }
        Ok(Command::Help(text)) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            print!("{}", BUILD.print_block("tocsin"));
            ExitCode::SUCCESS
        }
        Ok(Command::CheckConfig { files }) => {
            match check_config::run(&files, Default::default(), &mut std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("tocsin: error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Ok(Command::Run(flags)) => {
            logging::init(flags.log_format, flags.log_level);
            if flags.web_systemd_socket {
                // Before the runtime's threads exist: it edits the environment.
                tocsin::systemd::take_from_env();
            }
            if let Err(e) = run(flags) {
                eprintln!("tocsin: error: {e:#}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
    }
}

/// The server: a multi-threaded runtime, SIGTERM/SIGINT as the shutdown signal.
fn run(flags: tocsin::flags::Flags) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let shutdown = signals::shutdown()?;
        App::run(flags, shutdown).await?;
        Ok(())
    })
}
