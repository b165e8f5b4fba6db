//! Start at login on Linux: a standard XDG autostart entry
//! (`$XDG_CONFIG_HOME/autostart/tickettime.desktop`) that starts the tray
//! process hidden. Written by whichever process saves the setting.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

const FILE: &str = "tickettime.desktop";

/// `$XDG_CONFIG_HOME/autostart` (else `~/.config/autostart`).
pub fn dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.config_dir().join("autostart"))
}

/// The entry that starts `tray` with `--hidden` at login.
pub fn entry(tray: &Path) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=Tickettime\nComment=Tickettime in the system tray\n\
         Exec=\"{}\" --hidden\nIcon=tickettime\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        tray.display()
    )
}

/// Writes (`enabled`) or removes the entry in `dir`.
pub fn set_in(dir: &Path, tray: &Path, enabled: bool) -> Result<()> {
    let path = dir.join(FILE);
    let failed = |e: std::io::Error| Error::Invalid(format!("cannot change {}: {e}", path.display()));
    if enabled {
        std::fs::create_dir_all(dir).map_err(failed)?;
        std::fs::write(&path, entry(tray)).map_err(failed)
    } else {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(failed(e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_starts_the_tray_hidden_and_goes_away_when_disabled() {
        let dir = tempfile::tempdir().expect("dir");
        let autostart = dir.path().join("autostart");
        let tray = Path::new("/usr/bin/tickettime-tray");
        set_in(&autostart, tray, true).expect("enabled");
        let text = std::fs::read_to_string(autostart.join(FILE)).expect("written");
        assert!(text.contains("Exec=\"/usr/bin/tickettime-tray\" --hidden"), "{text}");
        assert!(text.starts_with("[Desktop Entry]\nType=Application\n"));
        set_in(&autostart, tray, false).expect("disabled");
        assert!(!autostart.join(FILE).exists());
        set_in(&autostart, tray, false).expect("disabling twice is fine");
    }
}
