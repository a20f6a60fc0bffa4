//! Customer data as something to keep: moving stacks to a new data dir or network, backups a
//! customer can be restored from, and the file-tree work both need.

pub mod archive;
pub mod customer_backup;
pub mod migrate;
pub mod tree;
