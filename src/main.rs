//! The `vastarray` command line tool; everything is in [`vastarray::cli`].

fn main() -> std::process::ExitCode {
    vastarray::cli::main()
}
