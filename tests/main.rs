//! Integration tests on real assets (MiniLM, MR) and on a tiny random model, one harness split
//! by topic. The real assets come from `scripts/setup.sh`; a missing asset fails the test with
//! that instruction, it never skips.

mod bad_input;
mod common;
mod cpu_backend;
mod encoder;
mod gpu;
mod attacks;
mod search;
mod site;
mod tickets;
mod report;
mod reproduce;
mod training;
mod user_data;
