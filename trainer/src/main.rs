//! `rticket`: search, draw, retrain and attack robust lottery tickets.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = rticket::cli::Cli::parse();
    match rticket::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
