//! The reference receiver's integration tests, as one binary (one build and link instead
//! of one per file). Servers listen on 127.0.0.1 port 0 and say which port they got;
//! child processes are killed when their guards drop.

mod end_to_end;
mod inbox;
mod inbox_processes;
mod secret_path;
mod spec_only;
