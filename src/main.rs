//! `cevns`: runs the cevns-pipeline stage binaries from a YAML pipeline with
//! a content-hash cache. See docs/pipeline.md.

mod cache;
mod error;
mod exec;
mod export;
mod interrupt;
mod runlock;
mod spec;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::error::bad_input;
use crate::export::DagFormat;
use crate::spec::Override;

#[derive(Debug, Parser)]
#[command(
    name = "cevns",
    version,
    about = "Run the cevns-pipeline stages from a YAML pipeline with a content-hash cache"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Args)]
struct Common {
    /// Pipeline file, e.g. pipelines/paper.yaml.
    pipeline: PathBuf,
    /// Directory relative paths in the pipeline are resolved against and
    /// stages run in (default: the current directory, i.e. the repo root).
    #[arg(long, short = 'C', value_name = "DIR")]
    root: Option<PathBuf>,
    /// Set any flag of a stage: STAGE.FLAG=VALUE (repeatable; part of the
    /// cache key). Replaces the pipeline's value, adds a flag it does not
    /// write (e.g. `--set quench-smear.k=0.15`) or, for an input, its path.
    #[arg(long = "set", value_name = "STAGE.FLAG=VALUE")]
    set: Vec<Override>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the stages that are out of date, in dependency order.
    Run {
        #[command(flatten)]
        common: Common,
        /// Print which stages would run and why; run nothing.
        #[arg(long, short = 'n')]
        dry_run: bool,
        /// Run only this stage (repeatable); upstream outputs must exist.
        #[arg(long, value_name = "STAGE")]
        only: Vec<String>,
        /// Run this stage and everything downstream of it.
        #[arg(long, value_name = "STAGE")]
        from: Option<String>,
        /// Rerun the selected stages even when they are up to date.
        #[arg(long)]
        force: bool,
        /// Print nothing but errors (also passed to the stages).
        #[arg(long, short)]
        quiet: bool,
        /// Run at most N independent stages at once.
        #[arg(long, short, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        jobs: u32,
        /// Passed to every stage as --threads N.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        threads: Option<u32>,
    },
    /// Show which stages are up to date (exit 0 even when some are stale).
    Status {
        #[command(flatten)]
        common: Common,
    },
    /// Print the stage graph.
    Dag {
        #[command(flatten)]
        common: Common,
        #[arg(long, value_enum, default_value_t = DagFormat::Text)]
        format: DagFormat,
    },
    /// Remove every declared output and the lock file.
    Clean {
        #[command(flatten)]
        common: Common,
        #[arg(long, short)]
        quiet: bool,
    },
    /// Export the pipeline to another workflow engine: a Snakefile
    /// (--snakemake) or CWL tools and a workflow (--cwl -o DIR).
    #[command(group(clap::ArgGroup::new("format").required(true).args(["snakemake", "cwl"])))]
    Export {
        #[command(flatten)]
        common: Common,
        /// Write a Snakefile (one rule per stage, with threads and resources).
        #[arg(long)]
        snakemake: bool,
        /// Write CWL v1.2: one CommandLineTool per stage and a Workflow
        /// (`<pipeline>.cwl`) into the directory given by -o.
        #[arg(long, requires = "output")]
        cwl: bool,
        /// Output file (Snakefile; default: stdout) or directory (CWL).
        #[arg(long, short, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Directory of the stage binaries used as default for
        /// config["cevns_bin"] (default: the directory of this `cevns`,
        /// relative to the root when it is inside it). Snakemake only; CWL
        /// finds the binaries on PATH.
        #[arg(long, value_name = "DIR")]
        bin_dir: Option<PathBuf>,
    },
}

fn load(c: &Common, check_files: bool) -> Result<spec::Pipeline> {
    let root = match &c.root {
        Some(r) => r.clone(),
        None => std::env::current_dir().context("cannot determine the current directory")?,
    };
    if !root.is_dir() {
        return Err(bad_input(format!(
            "--root `{}` is not a directory",
            root.display()
        )));
    }
    spec::load(&c.pipeline, &root, &c.set, check_files)
}

fn real_main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run {
            common,
            dry_run,
            only,
            from,
            force,
            quiet,
            jobs,
            threads,
        } => {
            let p = load(&common, true)?;
            let opts = exec::RunOpts {
                dry_run,
                only,
                from,
                force,
                quiet,
                jobs: jobs as usize,
                threads: threads.map(|t| t as usize),
            };
            // Validate the selection before taking the lock.
            exec::selection(&p, &opts.only, opts.from.as_deref())?;
            let _guard = if dry_run {
                None
            } else {
                interrupt::install().context("cannot install signal handlers")?;
                let g = runlock::RunLock::acquire(&cache::state_dir(&p.root))?;
                exec::remove_stale_temps(&p, quiet);
                Some(g)
            };
            let res = exec::run(&p, &opts);
            if !dry_run {
                // A stage killed by a signal leaves its temporaries: remove
                // them while the lock is still held.
                exec::remove_stale_temps(&p, quiet);
            }
            res
        }
        Cmd::Status { common } => {
            let p = load(&common, true)?;
            exec::status(&p).map(|_| ())
        }
        Cmd::Dag { common, format } => {
            let p = load(&common, false)?;
            interrupt::out(&export::dag(&p, format))
        }
        Cmd::Clean { common, quiet } => {
            let p = load(&common, false)?;
            let _guard = runlock::RunLock::acquire(&cache::state_dir(&p.root))?;
            exec::remove_stale_temps(&p, quiet);
            exec::clean(&p, quiet)
        }
        Cmd::Export {
            common,
            snakemake: _,
            cwl,
            output,
            bin_dir,
        } => {
            let p = load(&common, false)?;
            let pipeline_file = display_rel(&common.pipeline, &p.root);
            if cwl {
                let Some(dir) = output else {
                    return Err(bad_input("--cwl needs -o DIR"));
                };
                // CWL stages see only the files they are given: add the files
                // each stage reads through its inputs (asked of the stage
                // binary with --list-inputs) to its `depends`.
                let mut p = p;
                let nested = p
                    .stages
                    .iter()
                    .map(|s| cache::list_nested_inputs(&p, s, bin_dir.as_deref()))
                    .collect::<Result<Vec<_>>>()?;
                for (s, files) in p.stages.iter_mut().zip(nested) {
                    for f in files {
                        let given = s.inputs.values().flatten().any(|x| *x == f);
                        if !given && !s.depends.contains(&f) {
                            s.depends.push(f);
                        }
                    }
                }
                let n = export::cwl::write(&p, &pipeline_file, &dir)?;
                eprintln!(
                    "wrote {}/{}.cwl (workflow) and {n} tools",
                    dir.display(),
                    p.name
                );
                return Ok(());
            }
            // Prefer a path relative to the root (the Snakefile then has no
            // absolute path); a binary directory outside the root stays absolute.
            let bin_dir = match bin_dir.or_else(cache::exe_dir) {
                Some(d) => {
                    let abs = std::path::absolute(&d).unwrap_or(d);
                    let root = std::path::absolute(&p.root).unwrap_or_else(|_| p.root.clone());
                    abs.strip_prefix(&root)
                        .map(Path::to_path_buf)
                        .unwrap_or(abs)
                }
                None => PathBuf::from("target/release"),
            };
            let nested = p
                .stages
                .iter()
                .map(|s| cache::list_nested_inputs(&p, s, Some(&bin_dir)))
                .collect::<Result<Vec<_>>>()?;
            let text = export::snakemake(&p, &pipeline_file, &bin_dir.to_string_lossy(), &nested);
            match output {
                Some(path) => {
                    cache::write_atomic(&path, text.as_bytes())?;
                    eprintln!("wrote {} ({} rules)", path.display(), p.stages.len());
                }
                None => interrupt::out(&text)?,
            }
            Ok(())
        }
    }
}

/// `file` relative to `root` when possible (for comments).
fn display_rel(file: &Path, root: &Path) -> String {
    let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    abs.strip_prefix(&root)
        .unwrap_or(&abs)
        .to_string_lossy()
        .into_owned()
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        // The reader closed stdout (`cevns status | head -1`): normal end.
        Err(e)
            if e.chain()
                .any(|c| c.downcast_ref::<interrupt::ClosedStdout>().is_some()) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            // Stopped by SIGINT/SIGTERM/a closed pipe: 128 + signal, like a
            // process killed by it (the lock is released by then).
            let code = match e
                .chain()
                .find_map(|c| c.downcast_ref::<interrupt::Interrupted>())
            {
                Some(i) => u8::try_from(128 + i.0).unwrap_or(1),
                None => error::exit_code(&e),
            };
            interrupt::err_line(&format!("error: {e:#}"));
            ExitCode::from(code)
        }
    }
}
