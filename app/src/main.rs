//! `nlchan` command: see `nlchan --help` and the [`cli`] module.

mod cli;

use std::ffi::OsString;
use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::init();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match cli::run(&args, &mut io::stdout(), &mut io::stderr(), &cli::NoProbe) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            cli::report(&e, &mut io::stderr());
            ExitCode::from(e.exit_code())
        }
    }
}
