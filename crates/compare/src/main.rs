//! `compare`: the 90 % CL limit curves of several pipelines on one figure and
//! in one wide CSV (see the library, `compare::Args`, for the flags).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    cevns_io::stage_main("compare", || {
        let args = compare::Args::parse();
        if args.common.list_inputs {
            return args.list_inputs();
        }
        args.common.init()?;
        compare::run(&args).map(|_| ())
    })
}
