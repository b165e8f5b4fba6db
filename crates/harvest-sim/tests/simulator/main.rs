//! Black-box tests of the Harvest simulator over real HTTP with reqwest, one binary for speed.

mod api;
mod faults;
mod identity;
mod support;
