//! Each customer's NetBird: its management API ([`api`]) and the owner account nbmsp creates
//! and keeps a working access token for ([`owner`]).

pub mod api;
pub mod owner;

pub use api::{DeviceCount, OwnerCredentials};
pub use owner::{DeviceUsage, TokenRenewal, owner_credentials};
