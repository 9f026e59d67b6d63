//! `rticket`: search, draw, retrain and attack robust lottery tickets.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // burn puts a few tensors on its default device, notably an optimiser's state restored from a
    // checkpoint (each moves to its parameter's device at the next step). Unset, that default is the
    // first GPU backend compiled in, so resuming a `--device cpu` run would start Vulkan, or fail on
    // a machine without a driver. Every device we compute on is chosen explicitly, so the default
    // can be the CPU backend whatever --device says.
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: nothing else runs yet: no other thread can be reading the environment.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
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
