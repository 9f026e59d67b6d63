//! `rticket`: search, draw, retrain and attack robust lottery tickets.

use std::process::ExitCode;

use clap::Parser;

// mimalloc: see its line in Cargo.toml for why and what it measured.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    // Mesa's implicit Vulkan layer `device_select` only orders the GPUs for a desktop session,
    // and looking for one prints `error: XDG_RUNTIME_DIR is invalid or not set in the
    // environment.` twice per adapter probe on a machine without one: a false alarm at the top
    // of every command. We list and choose adapters ourselves, so the layer is switched off.
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        // SAFETY: as above, before any other thread starts.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
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
