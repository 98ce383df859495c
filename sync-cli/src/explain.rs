//! `teamsync config explain [KEY]`: every config key with its meaning and default, from the
//! doc comments of the config types (see [`teamsync::config::explain`]). No config is read.

use crate::exit::Exit;

/// `teamsync config ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print every config key (or KEY and the keys under it) with its meaning and default.
    Explain {
        /// A key or section as a dotted path: policy, policy.on_leave, directory.url, team.
        key: Option<String>,
    },
}

/// Prints the explanation; an unknown key is a usage error naming close matches.
pub fn run(command: &ConfigCommand) -> Exit {
    let ConfigCommand::Explain { key } = command;
    let keys = match key {
        None => teamsync::config::explain::keys(),
        Some(key) => match teamsync::config::explain::lookup(key) {
            Ok(keys) => keys,
            Err(unknown) => {
                eprintln!("teamsync: error: {unknown}");
                return Exit::Usage;
            }
        },
    };
    print!("{}", teamsync::config::explain::render(&keys));
    Exit::Success
}
