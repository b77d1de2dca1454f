//! `plot`: the figures of the pipeline (see the library: `plot::stage` for the
//! paper's figures, `plot::xenonnt_stage` for `--xenonnt-bins`).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // `--xenonnt-bins` selects the XENONnT figures (their own flags).
    if std::env::args().any(|a| a == "--xenonnt-bins" || a.starts_with("--xenonnt-bins=")) {
        return cevns_io::stage_main("plot", || {
            let cli = plot::xenonnt_stage::Cli::parse();
            if cli.common.list_inputs {
                return cli.list_inputs();
            }
            cli.common.init()?;
            plot::xenonnt_stage::run(&cli).map(|_| ())
        });
    }
    cevns_io::stage_main("plot", || {
        let cli: plot::stage::Cli = cevns_io::stage::parse_args();
        if cli.common.list_inputs {
            return cli.list_inputs();
        }
        cli.common.init()?;
        plot::stage::run(&cli).map(|_| ())
    })
}
