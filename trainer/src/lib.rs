//! The rticket command line as a library: file I/O, devices, data, the training loop and the
//! subcommands. `main.rs` only parses arguments and reports errors.

pub mod cli;
pub mod commands;
pub mod data;
pub mod device;
pub mod model_files;
pub mod outputs;
pub mod report;
pub mod reproduce;
pub mod resources;
pub mod site;
pub mod stages;
pub mod train;
pub mod vectors;
