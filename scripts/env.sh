# Sourced by the scripts: one cargo target directory outside the clone, so
# CI runs and sessions reuse builds; lean debug builds (see Cargo.toml).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tickettime/target}"
export PATH="$HOME/.cargo/bin:$PATH"
